/**
 * The job's live spend (issue 19): one atomic counter `spendMicroUsd` on the job row, raised by
 * every runner after every model response, read before every model request of a job with a cap
 * (`budgetUsd`). Whole micro-dollars, so concurrent ADDs sum exactly. newStore mixes these in.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** The spend part of the store port. */
export type SpendStore = {
  /** Atomically adds `microUsd` (a whole number ≥ 0) to the job's `spendMicroUsd`; returns the new total. Throws when the job row is missing. */
  addJobSpend(jobId: string, microUsd: number, signal?: AbortSignal): Promise<number>;
  /** The job's spend so far (0 before the first response) and its cap; zero and no cap for a missing job. */
  getJobSpend(jobId: string, signal?: AbortSignal): Promise<{ spendMicroUsd: number; budgetUsd?: number }>;
};

/** The spend methods over a DynamoDB document client. */
export function spendStoreMethods(doc: DynamoDBDocumentClient, tables: { jobsTable: string }): SpendStore {
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
  };
}
