/**
 * The store: jobs and repositories in DynamoDB (DESIGN.md section 3, "Data"). Every status
 * change is a conditional write, counters are atomic, idempotent ADDs (each repository counted
 * once), and a job is finalized exactly once.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type UpdateCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Config } from "./config.ts";
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
import { sleep } from "./sleep.ts";
import { campaignStoreMethods, type CampaignStore } from "./store-campaign.ts";
import { watchdogStoreMethods, type WatchdogStore } from "./store-watchdog.ts";
import { actionRunStoreMethods, type ActionRunStore } from "./store-action-run.ts";

export const JOBS_STATUS_INDEX = "status-createdAt-index";

/** Result of trying to claim a repository for a runner attempt. */
export type ClaimResult =
  | { kind: "claimed"; row: RepoRow }
  /** The row is terminal already (another attempt finished it, or it was cancelled). */
  | { kind: "terminal"; row: RepoRow }
  /** Another attempt is alive (fresh heartbeat): leave it alone. */
  | { kind: "busy"; row: RepoRow }
  /** The row does not exist. */
  | { kind: "missing" };

export type ClaimOptions = {
  now: Date;
  /** A live row whose heartbeat is older than this may be taken over. */
  staleBefore: Date;
  /**
   * The caller's attempt number as the launcher counts it (AWS_BATCH_JOB_ATTEMPT, 1-based). AWS
   * Batch (and the local launcher) start attempt N only after attempt N − 1 exited, so a live row
   * whose `attempt` is below N was claimed by a runner that is dead: it may be taken over at once,
   * whatever its heartbeat says.
   */
  launcherAttempt?: number;
};

/** What {@link Store.recordStep} found: whether this attempt still owns the row, and whether a cancel was requested. */
export type StepResult = { owned: boolean; cancelRequested: boolean };

/** Fields a runner may set along with a transition. */
export type RepoFields = Partial<Omit<RepoRow, "jobId" | "repositoryName" | "index" | "status" | "attempt" | "expiresAt">>;

/** The store port, as the bot, runner and CLI use it. */
export type Store = {
  /**
   * Writes all repository rows (BatchWrite, 25 a request, retrying unprocessed items), then the
   * job row, conditional on its absence: a repeated creation returns `exists` with the stored job.
   */
  createJob(job: Job, repos: RepoRow[], signal?: AbortSignal): Promise<{ kind: "created"; job: Job } | { kind: "exists"; job: Job }>;
  getJob(jobId: string, signal?: AbortSignal): Promise<Job | undefined>;
  getRepo(jobId: string, repositoryName: string, signal?: AbortSignal): Promise<RepoRow | undefined>;
  /** Every repository row of a job, in index order. */
  listRepos(jobId: string, signal?: AbortSignal): Promise<RepoRow[]>;
  /** The most recent jobs across statuses (status GSI), newest first, expired ones left out. */
  listJobs(limit: number, signal?: AbortSignal): Promise<Job[]>;
  /**
   * Jobs not finalized yet (PENDING, RUNNING, and CANCELLED ones still winding down), oldest
   * first, up to `limit`, across pages of the status GSI: what the watchdog sweeps.
   */
  listUnfinishedJobs(limit: number, signal?: AbortSignal): Promise<Job[]>;
  /** Sets bookkeeping fields on a job (batch job id, Slack thread; pull-request options when a preview is published). */
  setJobFields(jobId: string, fields: Partial<Pick<Job, "batchJobId" | "slack" | "createPullRequests" | "pullRequest">>, signal?: AbortSignal): Promise<void>;
  /** PENDING → RUNNING; false when the job was not PENDING. */
  markJobRunning(jobId: string, signal?: AbortSignal): Promise<boolean>;
  /** Takes a PENDING row (or a live row with a stale heartbeat) for a new attempt: status CLONING, attempt + 1. */
  claimRepo(jobId: string, repositoryName: string, opts: ClaimOptions, signal?: AbortSignal): Promise<ClaimResult>;
  /**
   * Moves a live row of this attempt from `from` to the live status `to`. With `unlessCancelled`,
   * the move happens only while no cancel was requested on the row (see requestRepoCancel).
   * False when a condition failed.
   */
  moveRepo(
    row: Pick<RepoRow, "jobId" | "repositoryName" | "attempt">,
    from: RepoStatus,
    to: RepoStatus,
    fields: RepoFields,
    signal?: AbortSignal,
    opts?: { unlessCancelled?: boolean },
  ): Promise<boolean>;
  /** Flags a live row as cancelled, so its runner can no longer start pushing; false when it is not live. */
  requestRepoCancel(row: Pick<RepoRow, "jobId" | "repositoryName">, signal?: AbortSignal): Promise<boolean>;
  /**
   * Records the step this attempt is at (and refreshes its heartbeat), so a later attempt or the
   * watchdog can say where a crashed runner stopped. Also tells whether a cancel was requested on
   * the row: one request serves as the runner's cancellation check.
   */
  recordStep(row: Pick<RepoRow, "jobId" | "repositoryName" | "attempt">, step: string, now: Date, signal?: AbortSignal): Promise<StepResult>;
  /** Refreshes a live row's heartbeat; false when this attempt no longer owns the row. */
  heartbeat(row: Pick<RepoRow, "jobId" | "repositoryName" | "attempt">, now: Date, signal?: AbortSignal): Promise<boolean>;
  /**
   * Ends a row: sets the terminal status and fields (conditional: `from` lists the statuses the
   * row may be in; `attempt`, when given, must match), then counts it on the job (countRepo).
   * False when a condition failed (someone else ended it).
   */
  finishRepo(
    row: Pick<RepoRow, "jobId" | "repositoryName" | "index"> & { attempt?: number },
    from: readonly RepoStatus[],
    to: RepoStatus,
    fields: RepoFields,
    signal?: AbortSignal,
  ): Promise<boolean>;
  /**
   * finishRepo that hands back what it wrote, so the caller need not read it again: the row as
   * ended, and the job row as the count left it (`job` undefined when the row was counted
   * already). `{ ended: false }` when a condition failed (someone else ended it).
   */
  finishRepoWithJob(
    row: Pick<RepoRow, "jobId" | "repositoryName" | "index"> & { attempt?: number },
    from: readonly RepoStatus[],
    to: RepoStatus,
    fields: RepoFields,
    signal?: AbortSignal,
  ): Promise<{ ended: false } | { ended: true; repo: RepoRow; job?: Job }>;
  /**
   * Adds a terminal row to the job's counters (and its tokens, cost and PR to the job's totals), once: the job row keeps the set of counted
   * indexes, so a retry after a crash between the row's write and its count never counts twice.
   * (DynamoDB transactions would do both at once, but the embedded DynamoDB has none.)
   * Returns false when it was counted already.
   */
  countRepo(row: Pick<RepoRow, "jobId" | "index" | "status" | "usage" | "prUrl" | "costUsd">, signal?: AbortSignal): Promise<boolean>;
  /**
   * When every repository has ended and the job is not finalized, sets its final status and
   * `finishedAt` (conditional, so exactly one caller wins). Returns the finalized job to the winner.
   * `known`: the job row as a write just returned it (finishRepoWithJob), used instead of reading it.
   */
  finalizeIfDone(jobId: string, now: Date, signal?: AbortSignal, known?: Job): Promise<Job | undefined>;
  /** PENDING/RUNNING → CANCELLED; returns the job after the attempt, or undefined when missing. */
  markJobCancelled(jobId: string, by: string, now: Date, signal?: AbortSignal): Promise<{ kind: "cancelled" | "already_finished"; job: Job } | undefined>;
} & CampaignStore &
  WatchdogStore &
  ActionRunStore;

/** Every AWS SDK client gets these: a stalled connection fails (and is retried) instead of hanging. */
export const AWS_HTTP_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 30_000 } as const;

/** Counts requests per client, for tests and benchmarks. */
export type RequestCounter = { count: number };

/** Builds the DynamoDB client of a config (endpoint override and dummy credentials locally). */
export function newDynamoClient(config: Config, counter?: RequestCounter): DynamoDBClient {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint
      ? { endpoint: config.dynamodbEndpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    maxAttempts: 5,
    requestHandler: AWS_HTTP_TIMEOUTS,
  });
  if (counter) {
    client.middlewareStack.add(
      (next) => async (args) => {
        counter.count += 1;
        return next(args);
      },
      { step: "finalizeRequest", name: "codyRequestCounter" },
    );
  }
  return client;
}

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
    const job = await tryUpdate(
      {
        TableName: jobsTable,
        Key: { jobId: row.jobId },
        UpdateExpression: `ADD counters.#c :one, countedIndexes :idx${totals.expression} SET updatedAt = :now`,
        ConditionExpression: "attribute_exists(jobId) AND NOT contains(countedIndexes, :i)",
        ExpressionAttributeNames: { "#c": counterFor(row.status) },
        ExpressionAttributeValues: { ":one": 1, ":idx": new Set([row.index]), ":i": row.index, ":now": new Date().toISOString(), ...totals.values },
      },
      `count ${row.jobId} #${row.index} as ${row.status}`,
      signal,
      "ALL_NEW",
    );
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
    ...watchdogStoreMethods(doc, { jobsTable }),
    ...actionRunStoreMethods(doc, { jobsTable }),
  } satisfies Store;
}

const LIVE_VALUES = { ":c": "CLONING", ":r": "RUNNING", ":p": "PUSHING" } as const;

/** An update of a live row that only the attempt owning it may make. */
function ownedRowUpdate(
  table: string,
  row: Pick<RepoRow, "jobId" | "repositoryName" | "attempt">,
  expression: string,
  values: Record<string, unknown>,
): UpdateCommandInput {
  return {
    TableName: table,
    Key: { jobId: row.jobId, repositoryName: row.repositoryName },
    UpdateExpression: expression,
    ConditionExpression: "attempt = :a AND #s IN (:c, :r, :p)",
    ExpressionAttributeNames: { "#s": "status" },
    ExpressionAttributeValues: { ...values, ":a": row.attempt, ...LIVE_VALUES },
  };
}

/** The ADD clauses that sum a repository's usage, cost and PR into the job's `totals` (jobs created without totals get none). */
function totalsAdd(row: Pick<RepoRow, "usage" | "prUrl" | "costUsd">): { expression: string; values: Record<string, number> } {
  const parts: string[] = [];
  const values: Record<string, number> = {};
  const add = (field: string, n: number | undefined) => {
    if (!n) return;
    parts.push(`totals.${field} :t_${field}`);
    values[`:t_${field}`] = n;
  };
  add("inputTokens", row.usage?.inputTokens);
  add("outputTokens", row.usage?.outputTokens);
  add("cacheReadTokens", row.usage?.cacheReadTokens);
  add("cacheWriteTokens", row.usage?.cacheWriteTokens);
  add("costMicroUsd", row.costUsd !== undefined ? Math.round(row.costUsd * 1e6) : undefined);
  add("prsOpened", row.prUrl ? 1 : undefined);
  return { expression: parts.length ? `, ${parts.join(", ")}` : "", values };
}

function repoUpdate(
  table: string,
  row: Pick<RepoRow, "jobId" | "repositoryName"> & { attempt?: number },
  from: readonly RepoStatus[],
  to: RepoStatus,
  fields: RepoFields,
  checkAttempt: boolean,
) {
  const names: Record<string, string> = { "#s": "status" };
  const values: Record<string, unknown> = { ":to": to };
  const sets = ["#s = :to"];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    names[`#f_${k}`] = k;
    values[`:f_${k}`] = v;
    sets.push(`#f_${k} = :f_${k}`);
  }
  const fromKeys = from.map((s, i) => {
    values[`:from${i}`] = s;
    return `:from${i}`;
  });
  let condition = `#s IN (${fromKeys.join(", ")})`;
  if (checkAttempt && row.attempt !== undefined) {
    values[":attempt"] = row.attempt;
    condition += " AND attempt = :attempt";
  }
  return {
    TableName: table,
    Key: { jobId: row.jobId, repositoryName: row.repositoryName },
    UpdateExpression: `SET ${sets.join(", ")}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * Sends a conditional update: undefined when its condition failed, else the item as
 * `returnValues` asks for it ({} without). Other failures throw with `what` and the cause.
 */
export async function conditionalUpdate(
  doc: DynamoDBDocumentClient,
  input: UpdateCommandInput,
  what: string,
  signal?: AbortSignal,
  returnValues?: "ALL_NEW",
): Promise<Record<string, unknown> | undefined> {
  try {
    const r = await doc.send(new UpdateCommand({ ...input, ...(returnValues ? { ReturnValues: returnValues } : {}) }), signal ? { abortSignal: signal } : {});
    return r.Attributes ?? {};
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw new Error(what, { cause: err });
  }
}

/**
 * Every item of a query, following LastEvaluatedKey page by page (stopping once `limit` items
 * are in, when given).
 */
export async function queryAll<T>(doc: DynamoDBDocumentClient, input: QueryCommandInput, signal?: AbortSignal, limit = Infinity): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }), signal ? { abortSignal: signal } : {});
    items.push(...((r.Items ?? []) as T[]));
    start = items.length < limit ? r.LastEvaluatedKey : undefined;
  } while (start);
  return items;
}

/** True when a conditional write was refused because its condition did not hold. */
export function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === "ConditionalCheckFailedException";
}

function isExpired(expiresAt: number | undefined): boolean {
  return typeof expiresAt === "number" && expiresAt * 1000 < Date.now();
}

/** The two tables exactly as DESIGN.md describes them (keys, GSIs), for the embedded stack and tests. */
export function tableDefinitions(config: Pick<Config, "jobsTable" | "reposTable">): CreateTableCommandInput[] {
  return [
    {
      TableName: config.jobsTable,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "jobId", AttributeType: "S" },
        { AttributeName: "status", AttributeType: "S" },
        { AttributeName: "createdAt", AttributeType: "S" },
      ],
      KeySchema: [{ AttributeName: "jobId", KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: JOBS_STATUS_INDEX,
          KeySchema: [
            { AttributeName: "status", KeyType: "HASH" },
            { AttributeName: "createdAt", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    },
    {
      TableName: config.reposTable,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "jobId", AttributeType: "S" },
        { AttributeName: "repositoryName", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "jobId", KeyType: "HASH" },
        { AttributeName: "repositoryName", KeyType: "RANGE" },
      ],
      // No status GSI (DESIGN.md listed one): nothing queries repositories by status, and every
      // heartbeat write would be written twice.
    },
  ];
}

/** Creates the tables when missing and waits until they are active; turns TTL on where supported. */
export async function ensureTables(client: DynamoDBClient, config: Pick<Config, "jobsTable" | "reposTable">): Promise<void> {
  for (const def of tableDefinitions(config)) {
    try {
      await client.send(new CreateTableCommand(def));
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    for (let i = 0; i < 100; i++) {
      const d = await client.send(new DescribeTableCommand({ TableName: def.TableName }));
      if (d.Table?.TableStatus === "ACTIVE") break;
      await sleep(50);
    }
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: def.TableName,
          TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
        }),
      );
    } catch {
      // dynalite does not implement UpdateTimeToLive; reads filter expired items anyway.
    }
  }
}
