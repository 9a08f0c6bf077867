/**
 * The store: jobs and repositories in DynamoDB (DESIGN.md section 3, "Data"). Every status
 * change is a conditional write, counters are atomic, idempotent ADDs (each repository counted
 * once), and a job is finalized exactly once.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type UpdateCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Config } from "../config/index.ts";
import {
  counterFor,
  finalJobStatus,
  finishedCount,
  isTerminalJob,
  isTerminalRepo,
  JOB_STATUSES,
  type Job,
  type RepoRow,
  type RepoStatus,
} from "./job.ts";
import { sleep } from "../runtime/index.ts";
import { campaignStoreMethods, type CampaignStore } from "./store-campaign.ts";
import { conditionalUpdate, isConditionFailure, JOBS_STATUS_INDEX, newDynamoClient, queryAll } from "./dynamo.ts";
import type { ClaimResult, RepoFields, StepResult, Store } from "./store-types.ts";
import { isExpired, LIVE_VALUES, ownedRowUpdate, repoUpdate, totalsAdd } from "./store-updates.ts";
import { countPoint } from "./count-history.ts";
import { compactHistoryIfLong, historyAppend } from "./store-history.ts";

// The port's types moved to store-types.ts; re-exported for importers of this file.
export type * from "./store-types.ts";

/** Creates the store over DynamoDB. */
export function newStore(config: Config, client: DynamoDBClient = newDynamoClient(config)): Store {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const jobsTable = config.jobsTable;
  const reposTable = config.reposTable;
  const opt = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});

  const tryUpdate = (input: UpdateCommandInput, what: string, signal?: AbortSignal, returnValues?: "ALL_NEW") =>
    conditionalUpdate(doc, input, what, signal, returnValues);

  async function getJob(jobId: string, signal?: AbortSignal): Promise<Job | undefined> {
    const r = await doc.send(new GetCommand({ TableName: jobsTable, Key: { jobId }, ConsistentRead: true }), opt(signal));
    const job = r.Item as Job | undefined;
    return job && !isExpired(job.expiresAt) ? job : undefined;
  }

  /** Counts a terminal row on its job once (see Store.countRepo); the job row after the count, or undefined when counted already. */
  async function getRepo(jobId: string, repositoryName: string, signal?: AbortSignal): Promise<RepoRow | undefined> {
    const r = await doc.send(new GetCommand({ TableName: reposTable, Key: { jobId, repositoryName }, ConsistentRead: true }), opt(signal));
    return r.Item as RepoRow | undefined;
  }

  const finishRepoWithJob: Store["finishRepoWithJob"] = async (row, from, to, fields, signal) => {
    const now = new Date().toISOString();
    const update = repoUpdate(reposTable, row, from, to, { finishedAt: now, ...fields }, row.attempt !== undefined);
    const repo = (await tryUpdate(update, `finish ${row.jobId} ${row.repositoryName} as ${to}`, signal, "ALL_NEW")) as RepoRow | undefined;
    if (!repo) return { ended: false };
    const job = await countInto({ ...fields, jobId: row.jobId, index: row.index, status: to }, signal);
    return { ended: true, repo, ...(job ? { job } : {}) };
  };

  async function countInto(row: Parameters<Store["countRepo"]>[0], signal?: AbortSignal): Promise<Job | undefined> {
    const totals = totalsAdd(row);
    const now = new Date();
    // The chart's history point rides on the same write (store-history.ts).
    const history = historyAppend(countPoint(counterFor(row.status), 1, now));
    const job = await tryUpdate(
      {
        TableName: jobsTable,
        Key: { jobId: row.jobId },
        UpdateExpression: `ADD counters.#c :one, countedIndexes :idx${totals.expression} SET updatedAt = :now, ${history.clause}`,
        ConditionExpression: "attribute_exists(jobId) AND NOT contains(countedIndexes, :i)",
        ExpressionAttributeNames: { "#c": counterFor(row.status) },
        ExpressionAttributeValues: { ":one": 1, ":idx": new Set([row.index]), ":i": row.index, ":now": now.toISOString(), ...totals.values, ...history.values },
      },
      `count ${row.jobId} #${row.index} as ${row.status}`,
      signal,
      "ALL_NEW",
    );
    await compactHistoryIfLong(doc, jobsTable, job as Job | undefined, undefined, signal);
    return job as Job | undefined;
  }

  return {
    async createJob(job, repos, signal) {
      const existing = await getJob(job.jobId, signal);
      if (existing) return { kind: "exists", job: existing };
      for (let i = 0; i < repos.length; i += 25) {
        let items: Record<string, unknown>[] = repos.slice(i, i + 25).map((r) => ({ PutRequest: { Item: r } }));
        for (let attempt = 0; items.length > 0; attempt++) {
          if (attempt > 8) throw new Error(`create job ${job.jobId}: repository rows still unprocessed after retries`);
          if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random()), signal);
          const r = await doc.send(new BatchWriteCommand({ RequestItems: { [reposTable]: items as never } }), opt(signal));
          items = (r.UnprocessedItems?.[reposTable] as Record<string, unknown>[] | undefined) ?? [];
        }
      }
      try {
        await doc.send(
          new PutCommand({ TableName: jobsTable, Item: job, ConditionExpression: "attribute_not_exists(jobId)" }),
          opt(signal),
        );
        return { kind: "created", job };
      } catch (err) {
        if (isConditionFailure(err)) {
          const stored = await getJob(job.jobId, signal);
          if (stored) return { kind: "exists", job: stored };
        }
        throw new Error(`create job ${job.jobId}`, { cause: err });
      }
    },

    getJob,

    getRepo,

    async listRepos(jobId, signal) {
      const rows = await queryAll<RepoRow>(
        doc,
        { TableName: reposTable, KeyConditionExpression: "jobId = :j", ExpressionAttributeValues: { ":j": jobId }, ConsistentRead: true },
        signal,
      );
      return rows.sort((a, b) => a.index - b.index);
    },

    async listJobs(limit, signal) {
      const perStatus = await Promise.all(
        JOB_STATUSES.map(async (status) => {
          const r = await doc.send(
            new QueryCommand({
              TableName: jobsTable,
              IndexName: JOBS_STATUS_INDEX,
              KeyConditionExpression: "#s = :s",
              ExpressionAttributeNames: { "#s": "status" },
              ExpressionAttributeValues: { ":s": status },
              ScanIndexForward: false,
              Limit: limit,
            }),
            opt(signal),
          );
          return (r.Items ?? []) as Job[];
        }),
      );
      return perStatus
        .flat()
        .filter((j) => !isExpired(j.expiresAt))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
        .slice(0, limit);
    },

    async listUnfinishedJobs(limit, signal) {
      const out: Job[] = [];
      for (const status of ["PENDING", "RUNNING", "CANCELLED"] as const) {
        const jobs = await queryAll<Job>(
          doc,
          {
            TableName: jobsTable,
            IndexName: JOBS_STATUS_INDEX,
            KeyConditionExpression: "#s = :s",
            FilterExpression: "attribute_not_exists(finishedAt)",
            ExpressionAttributeNames: { "#s": "status" },
            ExpressionAttributeValues: { ":s": status },
            ScanIndexForward: true,
          },
          signal,
          limit,
        );
        out.push(...jobs.filter((j) => !isExpired(j.expiresAt)));
      }
      return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).slice(0, limit);
    },

    async setJobFields(jobId, fields, signal) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets: string[] = [];
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        names[`#${k}`] = k;
        values[`:${k}`] = v;
        sets.push(`#${k} = :${k}`);
      }
      if (sets.length === 0) return;
      await doc.send(
        new UpdateCommand({
          TableName: jobsTable,
          Key: { jobId },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: "attribute_exists(jobId)",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
        opt(signal),
      );
    },

    async markJobRunning(jobId, signal) {
      const r = await tryUpdate(
        {
          TableName: jobsTable,
          Key: { jobId },
          UpdateExpression: "SET #s = :to, updatedAt = :now",
          ConditionExpression: "#s = :from",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":to": "RUNNING", ":from": "PENDING", ":now": new Date().toISOString() },
        },
        `mark job ${jobId} running`,
        signal,
      );
      return r !== undefined;
    },

    async claimRepo(jobId, repositoryName, { now, staleBefore, launcherAttempt }, signal) {
      const nowIso = now.toISOString();
      const takeover = launcherAttempt !== undefined && launcherAttempt > 1 ? " OR attempt < :launcherAttempt" : "";
      const claimed = await tryUpdate(
        {
          TableName: reposTable,
          Key: { jobId, repositoryName },
          UpdateExpression:
            "SET #s = :cloning, attempt = attempt + :one, startedAt = :now, heartbeatAt = :now, lastStep = if_not_exists(step, :none), step = :clone REMOVE #e",
          ConditionExpression:
            `attribute_exists(jobId) AND (#s = :pending OR (#s IN (:cloning, :running, :pushing) AND (attribute_not_exists(heartbeatAt) OR heartbeatAt < :stale${takeover})))`,
          ExpressionAttributeNames: { "#s": "status", "#e": "error" },
          ExpressionAttributeValues: {
            ":cloning": "CLONING",
            ":running": "RUNNING",
            ":pushing": "PUSHING",
            ":pending": "PENDING",
            ":one": 1,
            ":now": nowIso,
            ":clone": "clone",
            ":none": "start",
            ":stale": staleBefore.toISOString(),
            ...(takeover ? { ":launcherAttempt": launcherAttempt } : {}),
          },
        },
        `claim ${jobId} ${repositoryName}`,
        signal,
        "ALL_NEW",
      );
      if (claimed) return { kind: "claimed", row: claimed as RepoRow };
      const row = await getRepo(jobId, repositoryName, signal);
      if (!row) return { kind: "missing" };
      if (isTerminalRepo(row.status)) return { kind: "terminal", row };
      return { kind: "busy", row };
    },

    async moveRepo(row, from, to, fields, signal, opts) {
      const update = repoUpdate(reposTable, row, [from], to, fields, true);
      if (opts?.unlessCancelled) update.ConditionExpression += " AND attribute_not_exists(cancelRequested)";
      return (await tryUpdate(update, `move ${row.jobId} ${row.repositoryName} to ${to}`, signal)) !== undefined;
    },

    async requestRepoCancel(row, signal) {
      const r = await tryUpdate(
        {
          TableName: reposTable,
          Key: { jobId: row.jobId, repositoryName: row.repositoryName },
          UpdateExpression: "SET cancelRequested = :t",
          ConditionExpression: "#s IN (:c, :r, :p)",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":t": true, ...LIVE_VALUES },
        },
        `request cancel of ${row.jobId} ${row.repositoryName}`,
        signal,
      );
      return r !== undefined;
    },

    async recordStep(row, step, now, signal) {
      const r = await tryUpdate(
        ownedRowUpdate(reposTable, row, "SET step = :step, heartbeatAt = :now", { ":step": step, ":now": now.toISOString() }),
        `record step ${step} of ${row.jobId} ${row.repositoryName}`,
        signal,
        "ALL_NEW",
      );
      return r === undefined ? { owned: false, cancelRequested: false } : { owned: true, cancelRequested: (r as RepoRow).cancelRequested === true };
    },

    async heartbeat(row, now, signal) {
      const r = await tryUpdate(
        ownedRowUpdate(reposTable, row, "SET heartbeatAt = :now", { ":now": now.toISOString() }),
        `heartbeat ${row.jobId} ${row.repositoryName}`,
        signal,
      );
      return r !== undefined;
    },

    async finishRepo(row, from, to, fields, signal) {
      return (await finishRepoWithJob(row, from, to, fields, signal)).ended;
    },

    finishRepoWithJob,

    async countRepo(row, signal) {
      return (await countInto(row, signal)) !== undefined;
    },

    async finalizeIfDone(jobId, now, signal, known) {
      // The status is decided from a read; the write is conditional on that status, so a cancel
      // landing in between is seen on the next round instead of being overwritten.
      let job = known ?? (await getJob(jobId, signal));
      for (let round = 0; round < 3 && job; round++) {
        if (job.finishedAt || finishedCount(job.counters) < job.counters.total) return undefined;
        const status = finalJobStatus(job.counters, job.status === "CANCELLED");
        const finalized = await tryUpdate(
          {
            TableName: jobsTable,
            Key: { jobId },
            UpdateExpression: "SET #s = :s, finishedAt = :now, updatedAt = :now",
            ConditionExpression: "attribute_not_exists(finishedAt) AND #s = :seen",
            ExpressionAttributeNames: { "#s": "status" },
            ExpressionAttributeValues: { ":s": status, ":now": now.toISOString(), ":seen": job.status },
          },
          `finalize job ${jobId}`,
          signal,
          "ALL_NEW",
        );
        if (finalized) return finalized as Job;
        job = await getJob(jobId, signal);
      }
      return undefined;
    },

    async markJobCancelled(jobId, by, now, signal) {
      const cancelled = await tryUpdate(
        {
          TableName: jobsTable,
          Key: { jobId },
          UpdateExpression: "SET #s = :c, cancelledBy = :by, updatedAt = :now",
          ConditionExpression: "attribute_exists(jobId) AND #s IN (:p, :r)",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":c": "CANCELLED", ":by": by, ":now": now.toISOString(), ":p": "PENDING", ":r": "RUNNING" },
        },
        `cancel job ${jobId}`,
        signal,
        "ALL_NEW",
      );
      if (cancelled) return { kind: "cancelled", job: cancelled as Job };
      const job = await getJob(jobId, signal);
      return job ? { kind: isTerminalJob(job.status) ? "already_finished" : "cancelled", job } : undefined;
    },

    ...campaignStoreMethods(doc, { jobsTable, reposTable }),
  } satisfies Store;
}
