/**
 * The store's watchdog method: a claim on the job row that lets one watchdog pass (of several
 * running at once) post the "queued in AWS Batch" notice, at most once per interval.
 * Kept beside store.ts like store-campaign.ts; newStore mixes it in.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { conditionalUpdate } from "./dynamo.ts";

/** The watchdog part of the store port. */
export type WatchdogStore = {
  /**
   * Sets the job's `queuedNoticeAt` to `now` when it is absent or at least `everyMs` old: true for
   * the one caller that should post the queued notice now, false for everyone else.
   */
  claimQueuedNotice(jobId: string, now: Date, everyMs: number, signal?: AbortSignal): Promise<boolean>;
};

/** The watchdog method over a DynamoDB document client. */
export function watchdogStoreMethods(doc: DynamoDBDocumentClient, tables: { jobsTable: string }): WatchdogStore {
  return {
    async claimQueuedNotice(jobId, now, everyMs, signal) {
      const r = await conditionalUpdate(
        doc,
        {
          TableName: tables.jobsTable,
          Key: { jobId },
          UpdateExpression: "SET queuedNoticeAt = :now",
          ConditionExpression: "attribute_exists(jobId) AND (attribute_not_exists(queuedNoticeAt) OR queuedNoticeAt <= :before)",
          ExpressionAttributeValues: { ":now": now.toISOString(), ":before": new Date(now.getTime() - everyMs).toISOString() },
        },
        `claim the queued notice of job ${jobId}`,
        signal,
      );
      return r !== undefined;
    },
  };
}
