/**
 * The store's record of a campaign action in progress (issue 23): `actionRun` on the job row,
 * with the cursor into the job's rows and the results so far. A chunk advances it conditionally
 * (same run, same cursor), so two invocations of the same chunk never both count; a crashed
 * chunk is resumed from it. Kept beside store.ts like store-campaign.ts; newStore mixes it in.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { conditionalUpdate } from "./dynamo.ts";

/** Options of a chunked action, as the person gave them. */
export type ActionRunOptions = { method?: "squash" | "merge" | "rebase"; force?: boolean; allowNoChecks?: boolean; keepBranch?: boolean; comment?: string; all?: boolean };

/** A campaign action in progress, as stored on the job row. */
export type ActionRun = {
  runId: string;
  action: "merge" | "close" | "update" | "refresh";
  by: string;
  options: ActionRunOptions;
  startedAt: string;
  updatedAt: string;
  /** Index into the job's rows (index order) of the next row to work on. */
  next: number;
  /** Chunks that saved progress so far. */
  chunks: number;
  /** Per-repository results so far (merge, close). */
  results: { repository: string; kind: string; reason?: string }[];
};

/** The action-run part of the store port. */
export type ActionRunStore = {
  /**
   * Stores `run` as the job's action in progress when there is none, or the one there has not
   * moved since `staleBefore` (its invocations died). False when another run is active.
   */
  startActionRun(jobId: string, run: ActionRun, staleBefore: Date, signal?: AbortSignal): Promise<boolean>;
  /** Moves run `runId`'s cursor from `from` to `to` and appends `results`; false when the run or cursor moved meanwhile. */
  saveActionRun(jobId: string, runId: string, from: number, to: number, results: ActionRun["results"], now: Date, signal?: AbortSignal): Promise<boolean>;
  /** Removes run `runId` from the job: true for the one caller that ends it (and then announces it). */
  endActionRun(jobId: string, runId: string, signal?: AbortSignal): Promise<boolean>;
};

/** The action-run methods over a DynamoDB document client. */
export function actionRunStoreMethods(doc: DynamoDBDocumentClient, tables: { jobsTable: string }): ActionRunStore {
  const TableName = tables.jobsTable;
  return {
    async startActionRun(jobId, run, staleBefore, signal) {
      const r = await conditionalUpdate(
        doc,
        {
          TableName,
          Key: { jobId },
          UpdateExpression: "SET actionRun = :run",
          ConditionExpression: "attribute_exists(jobId) AND (attribute_not_exists(actionRun) OR actionRun.runId = :id OR actionRun.updatedAt < :stale)",
          ExpressionAttributeValues: { ":run": run, ":id": run.runId, ":stale": staleBefore.toISOString() },
        },
        `start action run on ${jobId}`,
        signal,
      );
      return r !== undefined;
    },
    async saveActionRun(jobId, runId, from, to, results, now, signal) {
      const r = await conditionalUpdate(
        doc,
        {
          TableName,
          Key: { jobId },
          UpdateExpression: "SET actionRun.#next = :to, actionRun.#results = list_append(actionRun.#results, :r), actionRun.updatedAt = :now ADD actionRun.chunks :one",
          ConditionExpression: "actionRun.runId = :id AND actionRun.#next = :from",
          ExpressionAttributeNames: { "#next": "next", "#results": "results" },
          ExpressionAttributeValues: { ":to": to, ":from": from, ":r": results, ":now": now.toISOString(), ":id": runId, ":one": 1 },
        },
        `save action run on ${jobId}`,
        signal,
      );
      return r !== undefined;
    },
    async endActionRun(jobId, runId, signal) {
      const r = await conditionalUpdate(
        doc,
        { TableName, Key: { jobId }, UpdateExpression: "REMOVE actionRun", ConditionExpression: "actionRun.runId = :id", ExpressionAttributeValues: { ":id": runId } },
        `end action run on ${jobId}`,
        signal,
      );
      return r !== undefined;
    },
  };
}
