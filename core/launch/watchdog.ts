/**
 * The watchdog: fails repositories whose runner stopped (no heartbeat, or no runner left to
 * finish them) with a reason, and finalizes jobs that have nothing left running. Run by the bot
 * on a schedule in AWS and by the CLI locally after a job's runners exited.
 */
import { isTerminalRepo, LIVE_REPO_STATUSES, type Job, type RepoRow } from "../jobs/index.ts";
import type { Logger } from "../runtime/index.ts";
import type { Notifier } from "../jobs/index.ts";
import type { Store } from "../jobs/index.ts";

export type WatchdogDeps = {
  store: Pick<Store, "listRepos" | "finishRepo" | "finalizeIfDone" | "getJob" | "countRepo">;
  notifier: Pick<Notifier, "jobFinished" | "repoFinished">;
  log: Logger;
};

/**
 * Which rows to give up on: live rows with a heartbeat older than `staleBefore`, and with
 * `includePending` PENDING rows too (only while no live row has a fresh heartbeat). With
 * `maxAttempts` and `retryStaleBefore`, a row whose attempt is below `maxAttempts` (the launcher
 * may still start a retry for it) counts as stale only when its heartbeat is older than
 * `retryStaleBefore`, which leaves a retry time to start.
 */
export type SweepOptions = { staleBefore: Date; includePending?: boolean; now: Date; maxAttempts?: number; retryStaleBefore?: Date };

/**
 * Ends every row of the job that no runner will finish as FAILED ("runner crashed N times at
 * step X" / "runner never started"), then finalizes the job. Conditional writes make it safe
 * to run beside live runners. Returns the rows it failed.
 */
export async function sweepJob(deps: WatchdogDeps, jobId: string, opts: SweepOptions, signal?: AbortSignal): Promise<RepoRow[]> {
  const rows = await deps.store.listRepos(jobId, signal);
  const failed: RepoRow[] = [];
  const job = await deps.store.getJob(jobId, signal);
  const isStale = (row: RepoRow) => {
    const before = opts.retryStaleBefore && opts.maxAttempts !== undefined && row.attempt < opts.maxAttempts ? opts.retryStaleBefore : opts.staleBefore;
    return !row.heartbeatAt || Date.parse(row.heartbeatAt) < before.getTime();
  };
  const anyAlive = rows.some((r) => LIVE_REPO_STATUSES.includes(r.status) && !isStale(r));
  for (const row of rows) {
    if (isTerminalRepo(row.status)) {
      // A runner that died between ending its row and counting it (its last attempt) left the
      // job short of its total: count the row now (idempotent), or the job never finishes.
      if (job && !job.countedIndexes?.has(row.index)) await deps.store.countRepo(row, signal);
      continue;
    }
    const live = LIVE_REPO_STATUSES.includes(row.status);
    const stale = live && isStale(row);
    const neverStarted = row.status === "PENDING" && opts.includePending === true && !anyAlive;
    if (!stale && !neverStarted) continue;
    const reason = neverStarted
      ? "runner never started"
      : `runner crashed ${Math.max(1, row.attempt)} time${row.attempt === 1 ? "" : "s"} at step ${row.step ?? "start"}`;
    const ok = await deps.store.finishRepo(row, [row.status], "FAILED", { error: reason }, signal);
    if (ok) {
      failed.push({ ...row, status: "FAILED", error: reason });
      deps.log.warn({ jobId, repo: row.repositoryName, reason }, "watchdog failed a repository");
      if (job) await deps.notifier.repoFinished({ job, repo: { ...row, status: "FAILED", error: reason } }, signal).catch(() => undefined);
    }
  }
  const finalized = await deps.store.finalizeIfDone(jobId, opts.now, signal);
  if (finalized) await deps.notifier.jobFinished(finalized, signal);
  return failed;
}

/**
 * Sweeps every unfinished job among `jobs` (e.g. the store's recent jobs). With
 * `pendingOlderThan`, PENDING rows of a job that made no progress since then (job row not
 * updated: no repository ended) are failed as never started, unless a runner is alive.
 */
export async function sweepJobs(deps: WatchdogDeps, jobs: readonly Job[], opts: SweepOptions & { pendingOlderThan?: Date }, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for (const job of jobs) {
    if (job.finishedAt) continue;
    const neverStarted = opts.pendingOlderThan !== undefined && Date.parse(job.updatedAt) < opts.pendingOlderThan.getTime();
    n += (await sweepJob(deps, job.jobId, { ...opts, includePending: neverStarted || opts.includePending === true }, signal)).length;
  }
  return n;
}

/** Settings of one scheduled watchdog pass. */
export type WatchdogSettings = {
  /** The runners' heartbeat interval: a heartbeat older than three of them means the runner is gone. */
  heartbeatSeconds: number;
  /** Attempts the launcher makes per repository (MAX_ATTEMPTS). */
  maxAttempts: number;
  /** PENDING rows of a job without progress for this long (and no live runner) never got a runner. */
  pendingMinutes: number;
  /** Minutes a crashed attempt below `maxAttempts` is given for the launcher's retry to claim it (default 15). */
  retryGraceMinutes?: number;
  /** How many recent jobs to look at per status (default 100). */
  limit?: number;
};

/**
 * One watchdog pass, as the bot's schedule (AWS) and `cody watchdog` (locally) run it: looks at the
 * most recent unfinished jobs, fails live repositories whose runner is gone ("runner crashed N
 * times at step X") and PENDING ones that never got a runner ("runner never started"), reports
 * them, and finalizes jobs with nothing left. Safe beside live runners (conditional writes).
 * Returns how many jobs it looked at and how many repositories it failed.
 */
export async function runWatchdog(
  deps: WatchdogDeps & { store: Pick<Store, "listUnfinishedJobs"> },
  settings: WatchdogSettings,
  now: Date,
  signal?: AbortSignal,
): Promise<{ jobs: number; failed: number }> {
  const jobs = await deps.store.listUnfinishedJobs(settings.limit ?? 500, signal);
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const failed = await sweepJobs(
    deps,
    jobs,
    {
      now,
      staleBefore: ago(settings.heartbeatSeconds * 3 * 1000),
      maxAttempts: settings.maxAttempts,
      retryStaleBefore: ago(Math.max(settings.heartbeatSeconds * 3 * 1000, (settings.retryGraceMinutes ?? 15) * 60_000)),
      pendingOlderThan: ago(settings.pendingMinutes * 60_000),
    },
    signal,
  );
  if (failed > 0 || jobs.length > 0) deps.log.info({ jobs: jobs.length, failed }, "watchdog pass finished");
  return { jobs: jobs.length, failed };
}
