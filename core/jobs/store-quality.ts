/**
 * The store's change-quality methods (issue 19). The job's live spend: one atomic counter
 * `spendMicroUsd` on the job row, raised by every runner after every model response, read before
 * every model request of a job with a cap (`budgetUsd`); whole micro-dollars, so concurrent ADDs
 * sum exactly. Healing: the failing checks' context set on a row before it is relaunched, and the
 * systematic failures recorded on the job. newStore mixes these in.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SystematicFailure } from "./job.ts";
import { conditionalUpdate } from "./dynamo.ts";

/** The change-quality part of the store port. */
export type QualityStore = {
  /** Atomically adds `microUsd` (a whole number ≥ 0) to the job's `spendMicroUsd`; returns the new total. Throws when the job row is missing. */
  addJobSpend(jobId: string, microUsd: number, signal?: AbortSignal): Promise<number>;
  /** The job's spend so far (0 before the first response) and its cap; zero and no cap for a missing job. */
  getJobSpend(jobId: string, signal?: AbortSignal): Promise<{ spendMicroUsd: number; budgetUsd?: number }>;
  /** Sets the context the next attempt of a terminal row heals with (runner/heal.ts); false when the row is missing or live. */
  setHealContext(jobId: string, repositoryName: string, context: string, signal?: AbortSignal): Promise<boolean>;
  /** Appends systematic failures to the job's record (the caller leaves out those recorded already). */
  addSystematic(jobId: string, found: readonly SystematicFailure[], signal?: AbortSignal): Promise<void>;
};

/** The change-quality methods over a DynamoDB document client. */
export function qualityStoreMethods(doc: DynamoDBDocumentClient, tables: { jobsTable: string; reposTable: string }): QualityStore {
  const opt = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});
  return {
    async addJobSpend(jobId, microUsd, signal) {
      if (!Number.isInteger(microUsd) || microUsd < 0) throw new Error(`spend must be whole micro-dollars ≥ 0, got ${microUsd}`);
      try {
        const r = await doc.send(
          new UpdateCommand({
            TableName: tables.jobsTable,
            Key: { jobId },
            UpdateExpression: "ADD spendMicroUsd :m",
            ConditionExpression: "attribute_exists(jobId)",
            ExpressionAttributeValues: { ":m": microUsd },
            ReturnValues: "UPDATED_NEW",
          }),
          opt(signal),
        );
        return Number(r.Attributes?.spendMicroUsd ?? 0);
      } catch (err) {
        throw new Error(`add spend to ${jobId}`, { cause: err });
      }
    },
    async getJobSpend(jobId, signal) {
      const r = await doc.send(
        new GetCommand({ TableName: tables.jobsTable, Key: { jobId }, ConsistentRead: true, ProjectionExpression: "spendMicroUsd, budgetUsd" }),
        opt(signal),
      );
      const item = r.Item as { spendMicroUsd?: number; budgetUsd?: number } | undefined;
      return { spendMicroUsd: Number(item?.spendMicroUsd ?? 0), ...(item?.budgetUsd !== undefined ? { budgetUsd: Number(item.budgetUsd) } : {}) };
    },
    async setHealContext(jobId, repositoryName, context, signal) {
      const r = await conditionalUpdate(
        doc,
        {
          TableName: tables.reposTable,
          Key: { jobId, repositoryName },
          UpdateExpression: "SET healContext = :h",
          ConditionExpression: "#s IN (:c, :n, :f)",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":h": context, ":c": "COMPLETED", ":n": "NO_CHANGES", ":f": "FAILED" },
        },
        `set heal context of ${jobId} ${repositoryName}`,
        signal,
      );
      return r !== undefined;
    },
    async addSystematic(jobId, found, signal) {
      if (found.length === 0) return;
      const r = await conditionalUpdate(
        doc,
        {
          TableName: tables.jobsTable,
          Key: { jobId },
          UpdateExpression: "SET systematic = list_append(if_not_exists(systematic, :empty), :new)",
          ConditionExpression: "attribute_exists(jobId)",
          ExpressionAttributeValues: { ":empty": [], ":new": [...found] },
        },
        `record systematic failures of ${jobId}`,
        signal,
      );
      if (r === undefined) throw new Error(`record systematic failures of ${jobId}: the job does not exist`);
    },
  };
}
