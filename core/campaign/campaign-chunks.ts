/**
 * Campaign actions of any size under a time limit (issue 23). A Lambda invocation lives at most
 * 300 s, and a merge or close of hundreds of PRs takes longer (GitHub paces writes about one a
 * second), so these actions run as a chain of chunks:
 *
 * - the first chunk records an {@link ActionRun} on the job row (core/store-action-run.ts);
 * - every chunk works through the job's rows from the run's cursor in batches of BATCH_ROWS
 *   (refresh those PRs, then merge/close them), saving the cursor and results after each batch,
 *   and stops before its deadline when the next batch might not fit (the slowest batch so far,
 *   twice over): the caller then starts the next chunk (bot: an asynchronous self-invocation);
 * - the chunk that saves the last batch ends the run (conditional: exactly one) and records and
 *   announces the one summary.
 *
 * A chunk that crashed (Lambda timeout, out of memory) is resumed from the last saved cursor by
 * the same task again (Lambda's own retry of an asynchronous invocation, a dead letter replayed,
 * or the same action started again once the run stopped moving for STALE_MS). Rows of the batch
 * that was in flight are decided again: a PR merged then says "already merged".
 */
import { randomUUID } from "node:crypto";
import { finishAction, updateJob, type ActionOutcome, type CampaignDeps, type RepoResult } from "./campaign.ts";
import { closeDecision, mergeDecision, type RowDecision } from "./campaign-merge.ts";
import { campaignSummary, type ActionRun, type ActionRunOptions, type CampaignSummary, type Job, type RepoRow, type Store } from "../jobs/index.ts";
import { refreshJob } from "../github/index.ts";

/** Rows per batch: one save to the job row per batch. */
export const BATCH_ROWS = 20;
/** A run whose cursor has not moved for this long may be taken over (its invocations died). */
export const STALE_MS = 10 * 60_000;
/** PRs decided at once within a batch (Octokit paces writes per process anyway). */
const CONCURRENCY = 4;

/** The actions that run in chunks; publish and retry only write rows and launch, fast at any size. */
export const CHUNKED_ACTIONS = ["merge", "close", "update", "refresh"] as const;
export type ChunkedAction = (typeof CHUNKED_ACTIONS)[number];

/** One chunk's task: the first one has no `runId` (it starts the run). */
export type ChunkTask = { jobId: string; action: ChunkedAction; by: string; options?: ActionRunOptions; runId?: string };

/** How long this chunk may run: `deadline` in `now()` milliseconds (Lambda: now + remaining time − a margin). */
export type ChunkClock = { now: () => number; deadline: number };

export type ChunkOutcome =
  /** The chunk stopped before its deadline: start the next one with `runId`. */
  | { kind: "continue"; runId: string; done: number; total: number; chunks: number }
  /** The action ended (or could not start: not_found, refused). `refreshed` for the refresh action. */
  | { kind: "finished"; runId?: string; outcome: ActionOutcome; refreshed?: number; campaign?: CampaignSummary }
  /** Another action of this job is in progress (started by `by` at `since`). */
  | { kind: "busy"; action: string; by: string; since: string }
  /** The run is no longer there (a twin invocation ended it): nothing to do. */
  | { kind: "gone" };

export type ChunkDeps = CampaignDeps & {
  store: CampaignDeps["store"] & Pick<Store, "startActionRun" | "saveActionRun" | "endActionRun" | "getRepo" | "setRepoPr">;
};

/** The stored run of a job row, when there is one. */
export function actionRunOf(job: Job): ActionRun | undefined {
  return (job as Job & { actionRun?: ActionRun }).actionRun;
}

/**
 * Runs one chunk of `task` until it is done or the clock says the next batch might not fit.
 * Never starts a second run beside an active one ("busy"); resumes a stale one of the same action.
 */
export async function runActionChunk(deps: ChunkDeps, task: ChunkTask, clock: ChunkClock, signal?: AbortSignal): Promise<ChunkOutcome> {
  const job = await deps.store.getJob(task.jobId, signal);
  if (!job) return { kind: "finished", outcome: { kind: "not_found" } };
  const needs = task.action === "merge" || task.action === "close" ? deps.forge : deps.readPr;
  if (!needs) return { kind: "finished", outcome: { kind: "refused", reason: `${task.action} needs GitHub access (GITHUB_TOKEN or a GitHub App)` } };
  const stored = actionRunOf(job);
  let run: ActionRun;
  if (task.runId) {
    if (!stored || stored.runId !== task.runId) return { kind: "gone" };
    run = stored;
  } else {
    const stale = stored !== undefined && Date.parse(stored.updatedAt) < clock.now() - STALE_MS;
    if (stored && !stale) return { kind: "busy", action: stored.action, by: stored.by, since: stored.startedAt };
    const at = new Date(clock.now()).toISOString();
    run =
      stored && stored.action === task.action
        ? stored // the same action again over a dead run: resume it from its cursor
        : { runId: randomUUID(), action: task.action, by: task.by, options: task.options ?? {}, startedAt: at, updatedAt: at, next: 0, chunks: 0, results: [] };
    if (!(await deps.store.startActionRun(job.jobId, { ...run, updatedAt: at }, new Date(clock.now() - STALE_MS), signal))) {
      const now = actionRunOf((await deps.store.getJob(job.jobId, signal)) ?? job);
      return now ? { kind: "busy", action: now.action, by: now.by, since: now.startedAt } : { kind: "gone" };
    }
  }

  const rows = await deps.store.listRepos(job.jobId, signal);
  const decide = decisionOf(deps, run);
  let slowest = 0;
  let results = run.results;
  let next = run.next;
  while (next < rows.length) {
    if (slowest > 0 && clock.now() + 2 * slowest > clock.deadline) {
      return { kind: "continue", runId: run.runId, done: next, total: rows.length, chunks: run.chunks + 1 };
    }
    const started = clock.now();
    const batch = rows.slice(next, next + BATCH_ROWS);
    const out = await runBatch(deps, job, batch, decide, signal);
    if (!(await deps.store.saveActionRun(job.jobId, run.runId, next, next + batch.length, out, new Date(clock.now()), signal))) return { kind: "gone" };
    results = [...results, ...out];
    next += batch.length;
    slowest = Math.max(slowest, clock.now() - started, 1);
  }
  // The last batch is saved: exactly one caller ends the run and announces it.
  if (!(await deps.store.endActionRun(job.jobId, run.runId, signal))) return { kind: "gone" };
  return { kind: "finished", runId: run.runId, ...(await finish(deps, job, run, rows, results, signal)) };
}

/** Refreshes the batch's PRs (when GitHub reads are wired), then decides each row (merge, close) on its fresh state. */
async function runBatch(deps: ChunkDeps, job: Job, batch: RepoRow[], decide: RowDecision | undefined, signal?: AbortSignal): Promise<RepoResult[]> {
  const withPr = batch.filter((r) => r.prNumber !== undefined).map((r) => r.repositoryName);
  if (deps.readPr && withPr.length > 0) await refreshJob({ store: deps.store, readPr: deps.readPr, log: deps.log }, job.jobId, { only: withPr }, signal);
  if (!decide || !deps.forge) return [];
  const forge = deps.forge;
  const out: RepoResult[] = new Array(batch.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, batch.length) }, async () => {
      while (i < batch.length) {
        const k = i++;
        const row = (await deps.store.getRepo(job.jobId, batch[k]!.repositoryName, signal)) ?? batch[k]!;
        out[k] = { repository: row.repositoryName, ...(await decide(row, forge, job, signal)) };
      }
    }),
  );
  return out;
}

function decisionOf(deps: ChunkDeps, run: ActionRun): RowDecision | undefined {
  const o = run.options;
  if (run.action === "merge") return mergeDecision(deps, { ...(o.method ? { method: o.method } : {}), force: o.force === true, ...(o.allowNoChecks ? { allowNoChecks: true } : {}), keepBranch: o.keepBranch === true });
  if (run.action === "close") return closeDecision(deps, { ...(o.comment ? { comment: o.comment } : {}), keepBranch: o.keepBranch === true });
  return undefined;
}

/** The run's end: merge/close record and announce the summary; update relaunches on the refreshed PRs; refresh reports its count. */
async function finish(deps: ChunkDeps, job: Job, run: ActionRun, rows: RepoRow[], results: RepoResult[], signal?: AbortSignal): Promise<{ outcome: ActionOutcome; refreshed?: number; campaign?: CampaignSummary }> {
  if (run.action === "update") return { outcome: await updateJob(deps, { jobId: job.jobId, by: run.by, all: run.options.all === true, refreshed: true }, signal) };
  const fresh = await deps.store.listRepos(job.jobId, signal);
  if (run.action === "refresh") {
    const at = new Date().toISOString();
    const campaign = campaignSummary(fresh, at);
    await deps.store.setJobCampaign(job.jobId, campaign, signal);
    const summary = { action: "refresh" as const, by: run.by, at, counts: {}, results: [], jobId: job.jobId, jobName: job.name, all: [] };
    return { outcome: { kind: "done", summary }, refreshed: rows.filter((r) => r.prNumber !== undefined && r.pr?.state !== "merged").length, campaign };
  }
  // Results in row order, one per row (a twin batch may have saved a row twice: the last word counts).
  const byName = new Map(results.map((r) => [r.repository, r]));
  const ordered = rows.map((r) => byName.get(r.repositoryName) ?? { repository: r.repositoryName, kind: "skipped", reason: "not reached" });
  return { outcome: { kind: "done", summary: await finishAction(deps, job, run.action, run.by, ordered, fresh, signal) } };
}
