/**
 * Cross-runner pacing of pull-request creation through DynamoDB. GitHub's secondary limits allow
 * about 80 content creations a minute and 500 an hour per account, and the Octokit throttling
 * plugin only paces its own process; every runner therefore takes a slot here before it creates
 * a pull request.
 *
 * Items live in the jobs table under keys that cannot collide with job ids (`j-…`):
 * - `rate#<scope>#<window>#<index>`: a counter per epoch-aligned window (`index = floor(now / window)`),
 *   raised with a conditional ADD that refuses past the window's limit; TTL `expiresAt`.
 * - `rate#job#<jobId>`: `nextAt` (epoch ms), the earliest time the job's next PR may be created
 *   (its `minIntervalSeconds`), taken with a conditional SET.
 * Writes are single-item conditional updates (dynalite has no transactions); a step that fails
 * undoes the earlier ones, so a refused attempt consumes nothing (a crash in between only over-counts).
 */
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Config } from "../config/index.ts";
import type { Logger } from "../runtime/index.ts";
import { isConditionFailure, newDynamoClient } from "../jobs/index.ts";
import { sleep as sleepFor } from "../runtime/index.ts";

/** One counting window: at most `limit` creations per epoch-aligned `seconds`. */
export type RateWindow = { name: string; seconds: number; limit: number };

/** GitHub's documented content-creation limits. */
export const GITHUB_PR_WINDOWS: readonly RateWindow[] = [
  { name: "minute", seconds: 60, limit: 80 },
  { name: "hour", seconds: 3600, limit: 500 },
];

export type PrRateGateDeps = {
  doc: DynamoDBDocumentClient;
  /** The jobs table. */
  table: string;
  /** Default {@link GITHUB_PR_WINDOWS}. */
  windows?: readonly RateWindow[];
  /** Which account's budget (default "github"); runners sharing a token share a scope. */
  scope?: string;
  /**
   * No slot is handed out in the last `guardMs` of a window (at most a quarter of it), so a PR
   * created right after taking a slot is counted by GitHub in the same window (default 2000).
   */
  guardMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  log?: Logger;
};

export type PrSlotRequest = { jobId: string; minIntervalSeconds: number; deadline: Date };

export type PrSlotResult = { kind: "ok" } | { kind: "timed_out"; reason: string };

/** Gate deps over the config's jobs table, with a document client of its own. */
export function prRateGateDeps(config: Config, client?: DynamoDBClient): PrRateGateDeps {
  const c = client ?? newDynamoClient(config);
  return { doc: DynamoDBDocumentClient.from(c), table: config.jobsTable };
}

/**
 * Waits for a pull-request creation slot: every window has room and the job's minimum interval
 * has passed. Retries with jittered waits (to the next window, or the job's `nextAt`) until
 * `deadline`; returns `timed_out` with a reason for people when no slot can be had before it.
 * Side effect on `ok`: the slot is counted in every window and the job's `nextAt` moves on.
 * Throws on store errors and when `signal` aborts.
 */
export async function acquirePrSlot(deps: PrRateGateDeps, req: PrSlotRequest, signal: AbortSignal): Promise<PrSlotResult> {
  const windows = deps.windows ?? GITHUB_PR_WINDOWS;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? sleepFor;
  const random = deps.random ?? Math.random;
  const deadline = req.deadline.getTime();
  const intervalMs = Math.max(0, req.minIntervalSeconds) * 1000;

  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    const t = now();
    const outcome = await tryTake(deps, now, windows, req.jobId, intervalMs, t, signal);
    if (outcome.kind === "ok") {
      deps.log?.debug({ jobId: req.jobId, attempt }, "pull request slot taken");
      return { kind: "ok" };
    }
    // Spread the waiters over a little time so they do not all come back at the same instant.
    const jitter = random() * Math.min(5000, Math.max(50, outcome.waitMs * 0.1));
    const wait = outcome.waitMs + jitter;
    if (t + wait > deadline) {
      return { kind: "timed_out", reason: `no pull request slot before the time budget ran out: ${outcome.why}` };
    }
    deps.log?.debug({ jobId: req.jobId, attempt, waitMs: Math.round(wait), why: outcome.why }, "waiting for a pull request slot");
    await sleep(wait, signal);
  }
}

type TakeOutcome = { kind: "ok" } | { kind: "wait"; waitMs: number; why: string };

async function tryTake(
  deps: PrRateGateDeps,
  now: () => number,
  windows: readonly RateWindow[],
  jobId: string,
  intervalMs: number,
  t: number,
  signal: AbortSignal,
): Promise<TakeOutcome> {
  const opt = { abortSignal: signal };
  const guardMs = deps.guardMs ?? 2000;
  const closing = (at: number): TakeOutcome | undefined => {
    for (const w of windows) {
      const size = w.seconds * 1000;
      const left = size - (at % size);
      if (left < Math.min(guardMs, size / 4)) return { kind: "wait", waitMs: left, why: `the ${w.name} window is closing` };
    }
    return undefined;
  };
  const early = closing(t);
  if (early) return early;

  const undo: Array<() => Promise<void>> = [];
  const rollback = async () => {
    for (const u of undo.reverse()) await u();
  };
  /** Registers an update that takes back a step, run (best effort) when a later step fails. */
  const onRollback = (input: ConstructorParameters<typeof UpdateCommand>[0]) =>
    undo.push(() => bestEffort(() => deps.doc.send(new UpdateCommand(input))));

  if (intervalMs > 0) {
    const key = { jobId: `rate#job#${jobId}` };
    const nextAt = t + intervalMs;
    try {
      const r = await deps.doc.send(
        new UpdateCommand({
          TableName: deps.table,
          Key: key,
          UpdateExpression: "SET nextAt = :next, expiresAt = :exp",
          ConditionExpression: "attribute_not_exists(nextAt) OR nextAt <= :now",
          ExpressionAttributeValues: { ":next": nextAt, ":now": t, ":exp": Math.ceil(nextAt / 1000) + 86_400 },
          ReturnValues: "UPDATED_OLD",
        }),
        opt,
      );
      const previous = r.Attributes?.nextAt as number | undefined;
      onRollback({
        TableName: deps.table,
        Key: key,
        UpdateExpression: previous === undefined ? "REMOVE nextAt" : "SET nextAt = :prev",
        ConditionExpression: "nextAt = :ours",
        ExpressionAttributeValues: { ":ours": nextAt, ...(previous === undefined ? {} : { ":prev": previous }) },
      });
    } catch (err) {
      if (!isConditionFailure(err)) throw new Error(`take the pull request interval of ${jobId}`, { cause: err });
      const r = await deps.doc.send(new GetCommand({ TableName: deps.table, Key: key, ConsistentRead: true }), opt);
      const at = (r.Item?.nextAt as number | undefined) ?? t;
      return { kind: "wait", waitMs: Math.max(10, at - t), why: `the job spaces its pull requests ${intervalMs / 1000} s apart` };
    }
  }

  for (const w of windows) {
    const size = w.seconds * 1000;
    const index = Math.floor(t / size);
    const key = { jobId: `rate#${deps.scope ?? "github"}#${w.name}#${index}` };
    const full = {
      kind: "wait" as const,
      waitMs: (index + 1) * size - t,
      why: `GitHub allows ${w.limit} pull requests per ${w.name} across runners and this ${w.name}'s are taken`,
    };
    if (w.limit <= 0) {
      await rollback();
      return full;
    }
    try {
      await deps.doc.send(
        new UpdateCommand({
          TableName: deps.table,
          Key: key,
          UpdateExpression: "ADD #n :one SET expiresAt = :exp",
          ConditionExpression: "attribute_not_exists(#n) OR #n < :limit",
          ExpressionAttributeNames: { "#n": "count" },
          ExpressionAttributeValues: { ":one": 1, ":limit": w.limit, ":exp": Math.ceil(((index + 1) * size) / 1000) + 2 * 86_400 },
        }),
        opt,
      );
      onRollback({
        TableName: deps.table,
        Key: key,
        UpdateExpression: "ADD #n :minus",
        ExpressionAttributeNames: { "#n": "count" },
        ExpressionAttributeValues: { ":minus": -1 },
      });
    } catch (err) {
      if (!isConditionFailure(err)) {
        await rollback();
        throw new Error(`count a pull request in the ${w.name} window`, { cause: err });
      }
      await rollback();
      return full;
    }
  }
  // The writes may have taken long enough for the window to be closing now: a PR created after
  // that would be counted by GitHub in the next window, so give the slot back and try there.
  const late = closing(Math.max(now(), t));
  if (late) {
    await rollback();
    return late;
  }
  return { kind: "ok" };
}

async function bestEffort(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch {
    // An undo that fails leaves the budget over-counted: safe, only slower.
  }
}

