/**
 * The store's campaign methods (issue 12): a repository's tracked PR state, the job's burndown
 * and action log, and the reset of terminal rows that an explicit retry, publish or update
 * makes. Kept beside store.ts so the core store stays one topic; newStore mixes these in.
 */
import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { counterFor, isTerminalRepo, type CampaignActionRecord, type CampaignSummary, type Job, type PullRequestStatus, type RepoRow } from "./job.ts";
import { conditionalUpdate } from "./dynamo.ts";
import { campaignCountsDiffer, campaignPoint, countPoint } from "./count-history.ts";
import { compactHistoryIfLong, historyAppend } from "./store-history.ts";

/** At most this many action records stay on a job (oldest dropped). */
export const MAX_ACTION_RECORDS = 20;

/** What a reset may carry onto the row for its next attempt. */
export type ResetOptions = { replayDiff?: boolean };

/** The campaign part of the store port. */
export type CampaignStore = {
  /** Writes a row's tracked PR state (and its prNumber/prUrl stay as they are). */
  setRepoPr(jobId: string, repositoryName: string, pr: PullRequestStatus, signal?: AbortSignal): Promise<void>;
  /** Writes the job's burndown. */
  setJobCampaign(jobId: string, summary: CampaignSummary, signal?: AbortSignal): Promise<void>;
  /** Appends an action record to the job (keeping the newest MAX_ACTION_RECORDS). */
  recordAction(jobId: string, record: CampaignActionRecord, signal?: AbortSignal): Promise<void>;
  /**
   * The explicit retry of a terminal row: conditional on the row still having `row.status`, sets
   * it PENDING with attempt 0 and no error/step/reply marker (so a new attempt starts from
   * scratch and its result is posted again), then takes it out of the job's counters and totals.
   * False when the row was not in that status (someone else moved it). Call {@link reopenJob} after.
   */
  resetRepo(row: Pick<RepoRow, "jobId" | "repositoryName" | "index" | "status" | "prUrl">, opts?: ResetOptions, signal?: AbortSignal): Promise<boolean>;
  /** A finished job whose rows were reset runs again: RUNNING, no finishedAt, root updates resume. */
  reopenJob(jobId: string, signal?: AbortSignal): Promise<Job | undefined>;
};

/** The campaign methods over a DynamoDB document client. */
export function campaignStoreMethods(doc: DynamoDBDocumentClient, tables: { jobsTable: string; reposTable: string }): CampaignStore {
  const { jobsTable, reposTable } = tables;
  const opt = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});
  const mustUpdate = async (input: Parameters<typeof conditionalUpdate>[1], what: string, signal?: AbortSignal) => {
    const r = await conditionalUpdate(doc, input, what, signal);
    if (r === undefined) throw new Error(`${what}: the row does not exist`);
  };
  return {
    async setRepoPr(jobId, repositoryName, pr, signal) {
      await mustUpdate(
        {
          TableName: reposTable,
          Key: { jobId, repositoryName },
          UpdateExpression: "SET pr = :pr",
          ConditionExpression: "attribute_exists(jobId)",
          ExpressionAttributeValues: { ":pr": pr },
        },
        `set PR state of ${jobId} ${repositoryName}`,
        signal,
      );
    },

    async setJobCampaign(jobId, summary, signal) {
      const before = await conditionalUpdate(
        doc,
        {
          TableName: jobsTable,
          Key: { jobId },
          UpdateExpression: "SET campaign = :c",
          ConditionExpression: "attribute_exists(jobId)",
          ExpressionAttributeValues: { ":c": summary },
          ReturnValues: "UPDATED_OLD",
        },
        `set campaign of ${jobId}`,
        signal,
      );
      if (before === undefined) throw new Error(`set campaign of ${jobId}: the row does not exist`);
      // The chart gets a point only when the PR counts changed (one more write then, none otherwise).
      if (campaignCountsDiffer(before.campaign as CampaignSummary | undefined, summary)) {
        const h = historyAppend(campaignPoint(summary, summary.refreshedAt ?? new Date().toISOString()));
        const job = await conditionalUpdate(
          doc,
          { TableName: jobsTable, Key: { jobId }, UpdateExpression: `SET ${h.clause}`, ConditionExpression: "attribute_exists(jobId)", ExpressionAttributeValues: h.values },
          `record PR counts of ${jobId}`,
          signal,
          "ALL_NEW",
        );
        await compactHistoryIfLong(doc, jobsTable, job as Job | undefined, undefined, signal);
      }
    },

    async recordAction(jobId, record, signal) {
      // Read, append, write conditional on the list we read: a concurrent action retries.
      for (let round = 0; round < 5; round++) {
        const r = await doc.send(new GetCommand({ TableName: jobsTable, Key: { jobId }, ConsistentRead: true, ProjectionExpression: "actions" }), opt(signal));
        const before = ((r.Item?.actions as CampaignActionRecord[] | undefined) ?? []);
        const after = [...before, record].slice(-MAX_ACTION_RECORDS);
        const ok = await conditionalUpdate(
          doc,
          {
            TableName: jobsTable,
            Key: { jobId },
            UpdateExpression: "SET actions = :after",
            ConditionExpression: before.length === 0 ? "attribute_exists(jobId) AND (attribute_not_exists(actions) OR size(actions) = :zero)" : "size(actions) = :n AND attribute_exists(jobId)",
            ExpressionAttributeValues: { ":after": after, ...(before.length === 0 ? { ":zero": 0 } : { ":n": before.length }) },
          },
          `record action on ${jobId}`,
          signal,
        );
        if (ok) return;
      }
      throw new Error(`record action on ${jobId}: too many concurrent actions`);
    },

    async resetRepo(row, opts = {}, signal) {
      if (!isTerminalRepo(row.status)) return false;
      const reset = await conditionalUpdate(
        doc,
        {
          TableName: reposTable,
          Key: { jobId: row.jobId, repositoryName: row.repositoryName },
          UpdateExpression:
            `SET #s = :pending, attempt = :zero${opts.replayDiff ? ", replayDiff = :t" : ""} ` +
            "REMOVE #e, step, lastStep, finishedAt, heartbeatAt, startedAt, cancelRequested, reportedAt",
          ConditionExpression: "#s = :from",
          ExpressionAttributeNames: { "#s": "status", "#e": "error" },
          ExpressionAttributeValues: { ":pending": "PENDING", ":zero": 0, ":from": row.status, ...(opts.replayDiff ? { ":t": true } : {}) },
        },
        `reset ${row.jobId} ${row.repositoryName}`,
        signal,
      );
      if (reset === undefined) return false;
      // Uncounted once: the count of the next attempt adds it (and its PR) back.
      const uncount = historyAppend(countPoint(counterFor(row.status), -1, new Date()));
      await conditionalUpdate(
        doc,
        {
          TableName: jobsTable,
          Key: { jobId: row.jobId },
          UpdateExpression: `ADD counters.#c :minus${row.prUrl ? ", totals.prsOpened :minus" : ""} DELETE countedIndexes :idx SET updatedAt = :now, ${uncount.clause}`,
          ConditionExpression: "contains(countedIndexes, :i)",
          ExpressionAttributeNames: { "#c": counterFor(row.status) },
          ExpressionAttributeValues: { ":minus": -1, ":idx": new Set([row.index]), ":i": row.index, ":now": new Date().toISOString(), ...uncount.values },
        },
        `uncount ${row.jobId} #${row.index}`,
        signal,
      );
      return true;
    },

    async reopenJob(jobId, signal) {
      const r = await conditionalUpdate(
        doc,
        {
          TableName: jobsTable,
          Key: { jobId },
          UpdateExpression: "SET #s = :running, updatedAt = :now REMOVE finishedAt, rootFinal, cancelledBy",
          ConditionExpression: "attribute_exists(jobId)",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":running": "RUNNING", ":now": new Date().toISOString() },
        },
        `reopen job ${jobId}`,
        signal,
        "ALL_NEW",
      );
      return r as Job | undefined;
    },
  };
}
