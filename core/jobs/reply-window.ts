/**
 * Cross-runner coordination of Slack replies and root updates, through DynamoDB. Every
 * repository runs in its own process, so grouping "repositories that ended within the same few
 * seconds" and pacing root updates cannot be done in memory:
 *
 * - `replyWindowUntil` (epoch ms) on the job row: a finishing runner tries to open a window with a
 *   conditional update; the winner waits, then reports every terminal repository row that has no
 *   `reportedAt`; losers return at once (the winner will see their rows).
 * - `reportedAt` on a repository row: `claim:<ms>:<id>` set conditionally before a row is posted,
 *   so a row is posted by exactly one process; `posted:<ms>` once its reply went out; released
 *   again when posting failed. A claim older than the lease (its process died mid-post) may be
 *   taken over by a later flush, so a reply is not lost to a killed runner.
 * - `rootUpdatedAt` (epoch ms) on the job row: at most one root update per interval;
 *   `rootFinal` marks that the final update was sent, after which progress updates stop.
 */
import { randomUUID } from "node:crypto";
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import type { RepoRow } from "./job.ts";
import { conditionalUpdate, queryAll } from "./dynamo.ts";

export type ReplyTables = { jobsTable: string; reposTable: string };

const opt = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});

/**
 * Opens the job's reply window until `nowMs + windowMs` when no window is open. True for the
 * one caller that opened it; false when a window is open (or the job is missing).
 */
export async function openReplyWindow(
  doc: DynamoDBDocumentClient,
  t: ReplyTables,
  jobId: string,
  nowMs: number,
  windowMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  return conditional(doc, {
    TableName: t.jobsTable,
    Key: { jobId },
    UpdateExpression: "SET replyWindowUntil = :until",
    ConditionExpression: "attribute_exists(jobId) AND (attribute_not_exists(replyWindowUntil) OR replyWindowUntil < :now)",
    ExpressionAttributeValues: { ":until": nowMs + windowMs, ":now": nowMs },
  }, signal);
}

/**
 * Takes the right to update the job's root message now: true when no update happened within
 * `intervalMs` and the final update was not sent yet.
 */
export async function claimRootUpdate(
  doc: DynamoDBDocumentClient,
  t: ReplyTables,
  jobId: string,
  nowMs: number,
  intervalMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  return conditional(doc, {
    TableName: t.jobsTable,
    Key: { jobId },
    UpdateExpression: "SET rootUpdatedAt = :now",
    ConditionExpression:
      "attribute_exists(jobId) AND attribute_not_exists(rootFinal) AND (attribute_not_exists(rootUpdatedAt) OR rootUpdatedAt <= :cutoff)",
    ExpressionAttributeValues: { ":now": nowMs, ":cutoff": nowMs - intervalMs },
  }, signal);
}

/** Marks that the final root update is being sent; later progress updates are skipped. */
export async function markRootFinal(doc: DynamoDBDocumentClient, t: ReplyTables, jobId: string, nowMs: number, signal?: AbortSignal): Promise<void> {
  await doc.send(
    new UpdateCommand({
      TableName: t.jobsTable,
      Key: { jobId },
      UpdateExpression: "SET rootFinal = :t, rootUpdatedAt = :now",
      ExpressionAttributeValues: { ":t": true, ":now": nowMs },
    }),
    opt(signal),
  );
}

/** True when the final root update was marked. */
export async function isRootFinal(doc: DynamoDBDocumentClient, t: ReplyTables, jobId: string, signal?: AbortSignal): Promise<boolean> {
  const r = await doc.send(
    new QueryCommand({
      TableName: t.jobsTable,
      KeyConditionExpression: "jobId = :j",
      ExpressionAttributeValues: { ":j": jobId },
      ProjectionExpression: "rootFinal",
      ConsistentRead: true,
    }),
    opt(signal),
  );
  return r.Items?.[0]?.rootFinal === true;
}

const CLAIM = "claim:";
const ms = (n: number) => String(Math.max(0, Math.floor(n))).padStart(13, "0");

/** A new claim token: `claim:<13-digit epoch ms>:<random>`, ordered by time as a string. */
export function claimToken(nowMs: number): string {
  return `${CLAIM}${ms(nowMs)}:${randomUUID()}`;
}

/**
 * Terminal repository rows of a job that no one has reported yet, in index order — and rows
 * whose claim is older than `staleClaimBeforeMs` (the process that claimed them died mid-post).
 */
export async function unreportedRows(
  doc: DynamoDBDocumentClient,
  t: ReplyTables,
  jobId: string,
  signal?: AbortSignal,
  staleClaimBeforeMs = 0,
): Promise<RepoRow[]> {
  const rows = await queryAll<RepoRow>(
    doc,
    {
      TableName: t.reposTable,
      KeyConditionExpression: "jobId = :j",
      FilterExpression:
        "(attribute_not_exists(reportedAt) OR (begins_with(reportedAt, :claim) AND reportedAt < :stale)) AND #s IN (:c, :n, :f, :x)",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: {
        ":j": jobId,
        ":claim": CLAIM,
        ":stale": `${CLAIM}${ms(staleClaimBeforeMs)}`,
        ":c": "COMPLETED",
        ":n": "NO_CHANGES",
        ":f": "FAILED",
        ":x": "CANCELLED",
      },
      ConsistentRead: true,
    },
    signal,
  );
  return rows.sort((a, b) => a.index - b.index);
}

/**
 * Claims rows for reporting (sets `reportedAt = token` where absent, or where it still holds the
 * stale claim the caller saw), 16 at a time; returns the rows this caller claimed. Rows another
 * process claimed first are left out.
 */
export async function claimRows(
  doc: DynamoDBDocumentClient,
  t: ReplyTables,
  rows: readonly RepoRow[],
  token: string,
  signal?: AbortSignal,
): Promise<RepoRow[]> {
  const claimed: RepoRow[] = [];
  for (let i = 0; i < rows.length; i += 16) {
    const batch = rows.slice(i, i + 16);
    const won = await Promise.all(
      batch.map((row) =>
        conditional(doc, {
          TableName: t.reposTable,
          Key: { jobId: row.jobId, repositoryName: row.repositoryName },
          UpdateExpression: "SET reportedAt = :tok",
          ConditionExpression: "attribute_exists(jobId) AND (attribute_not_exists(reportedAt) OR reportedAt = :seen)",
          ExpressionAttributeValues: { ":tok": token, ":seen": (row as RepoRow & { reportedAt?: string }).reportedAt ?? "-" },
        }, signal),
      ),
    );
    batch.forEach((row, k) => won[k] && claimed.push(row));
  }
  return claimed;
}

/** Marks claimed rows as posted (their reply went out), so no later flush takes them over. */
export async function markPosted(
  doc: DynamoDBDocumentClient,
  t: ReplyTables,
  rows: readonly RepoRow[],
  token: string,
  nowMs: number,
  signal?: AbortSignal,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 16) {
    await Promise.all(
      rows.slice(i, i + 16).map((row) =>
        conditional(doc, {
          TableName: t.reposTable,
          Key: { jobId: row.jobId, repositoryName: row.repositoryName },
          UpdateExpression: "SET reportedAt = :posted",
          ConditionExpression: "reportedAt = :tok",
          ExpressionAttributeValues: { ":tok": token, ":posted": `posted:${ms(nowMs)}` },
        }, signal),
      ),
    );
  }
}

/** Gives rows back (removes `reportedAt` where it is still `token`), so a later flush reports them. */
export async function releaseRows(
  doc: DynamoDBDocumentClient,
  t: ReplyTables,
  rows: readonly RepoRow[],
  token: string,
  signal?: AbortSignal,
): Promise<void> {
  for (const row of rows) {
    await conditional(doc, {
      TableName: t.reposTable,
      Key: { jobId: row.jobId, repositoryName: row.repositoryName },
      UpdateExpression: "REMOVE reportedAt",
      ConditionExpression: "reportedAt = :tok",
      ExpressionAttributeValues: { ":tok": token },
    }, signal);
  }
}

/** True when the conditional update was made, false when its condition did not hold. */
async function conditional(doc: DynamoDBDocumentClient, input: UpdateCommandInput, signal?: AbortSignal): Promise<boolean> {
  return (await conditionalUpdate(doc, input, `conditional update on ${input.TableName}`, signal)) !== undefined;
}
