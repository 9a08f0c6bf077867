/**
 * The DynamoDB update expressions store.ts builds for repository rows. Internal to core/jobs/
 * (not exported from index.ts).
 */
import type { UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import type { RepoRow, RepoStatus } from "./job.ts";
import type { RepoFields } from "./store-types.ts";

/** The live statuses as expression values (`:c`, `:r`, `:p`): rows a runner may still be working on. */
export const LIVE_VALUES = { ":c": "CLONING", ":r": "RUNNING", ":p": "PUSHING" } as const;

/** An update of a live row that only the attempt owning it may make. */
export function ownedRowUpdate(
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
export function totalsAdd(row: Pick<RepoRow, "usage" | "prUrl" | "costUsd">): { expression: string; values: Record<string, number> } {
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

/** A conditional status change of a repository row (from one of `from`, optionally by the same attempt) with its fields. */
export function repoUpdate(
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

/** True when a row's TTL has passed (DynamoDB deletes expired items late; reads skip them). */
export function isExpired(expiresAt: number | undefined): boolean {
  return typeof expiresAt === "number" && expiresAt * 1000 < Date.now();
}
