/**
 * How the store keeps a job's count history (count-history.ts): the clause that appends a
 * point inside the UpdateItem that changes a count, and the occasional compaction once the list
 * is longer than MAX_HISTORY_POINTS. Kept beside store.ts so the core store stays one topic.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { compactHistory, MAX_HISTORY_POINTS } from "./count-history.ts";
import type { CountPoint } from "./job.ts";
import type { Job } from "./job.ts";
import { conditionalUpdate } from "./dynamo.ts";

/** A `SET` clause (without the keyword) appending `point` to `history`, and its values. */
export function historyAppend(point: CountPoint): { clause: string; values: Record<string, unknown> } {
  return { clause: "history = list_append(if_not_exists(history, :h_empty), :h_point)", values: { ":h_empty": [], ":h_point": [point] } };
}

/**
 * When `job` (as a write just returned it) holds more than `max` points, replaces them with their
 * compaction to `max / 2`, conditional on the list still having that length (a concurrent append
 * wins; the next writer compacts). Never throws: the history is a nicety, the count is what matters.
 */
export async function compactHistoryIfLong(
  doc: DynamoDBDocumentClient,
  jobsTable: string,
  job: Pick<Job, "jobId" | "history"> | undefined,
  max = MAX_HISTORY_POINTS,
  signal?: AbortSignal,
): Promise<boolean> {
  const n = job?.history?.length ?? 0;
  if (!job || n <= max) return false;
  try {
    const r = await conditionalUpdate(
      doc,
      {
        TableName: jobsTable,
        Key: { jobId: job.jobId },
        UpdateExpression: "SET history = :h",
        ConditionExpression: "size(history) = :n",
        ExpressionAttributeValues: { ":h": compactHistory(job.history!, Math.floor(max / 2)), ":n": n },
      },
      `compact history of ${job.jobId}`,
      signal,
    );
    return r !== undefined;
  } catch {
    return false;
  }
}
