/**
 * The watchdog: fails repositories whose runner stopped (no heartbeat, or no runner left to
 * finish them) with a reason, and finalizes jobs that have nothing left running. Run by the bot
 * on a schedule in AWS and by the CLI locally after a job's runners exited.
 */
import { isTerminalRepo, LIVE_REPO_STATUSES, type Job, type RepoRow } from "./job.ts";
import type { Logger } from "./log.ts";
import type { Notifier } from "./notifier.ts";
import type { Store } from "./store.ts";

export type WatchdogDeps = {
  store: Pick<Store, "listRepos" | "finishRepo" | "finalizeIfDone" | "getJob">;
  notifier: Pick<Notifier, "jobFinished" | "repoFinished">;
  log: Logger;
};

/** Which rows to give up on: live rows with a heartbeat older than `staleBefore`, and with `includePending` PENDING rows too. */
export type SweepOptions = { staleBefore: Date; includePending?: boolean; now: Date };

/**
 * Ends every row of the job that no runner will finish as FAILED ("runner crashed N times at
 * step X" / "runner never started"), then finalizes the job. Conditional writes make it safe
 * to run beside live runners. Returns the rows it failed.
 */
export async function sweepJob(deps: WatchdogDeps, jobId: string, opts: SweepOptions, signal?: AbortSignal): Promise<RepoRow[]> {
  const rows = await deps.store.listRepos(jobId, signal);
  const failed: RepoRow[] = [];
  const job = await deps.store.getJob(jobId, signal);
  for (const row of rows) {
    if (isTerminalRepo(row.status)) continue;
    const live = LIVE_REPO_STATUSES.includes(row.status);
    const stale = live && (!row.heartbeatAt || Date.parse(row.heartbeatAt) < opts.staleBefore.getTime());
    const neverStarted = row.status === "PENDING" && opts.includePending;
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

/** Sweeps every unfinished job among `jobs` (e.g. the store's recent jobs). */
export async function sweepJobs(deps: WatchdogDeps, jobs: readonly Job[], opts: SweepOptions & { pendingOlderThan?: Date }, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for (const job of jobs) {
    if (job.finishedAt) continue;
    const neverStarted = job.status === "PENDING" && opts.pendingOlderThan !== undefined && Date.parse(job.createdAt) < opts.pendingOlderThan.getTime();
    n += (await sweepJob(deps, job.jobId, { ...opts, includePending: neverStarted || opts.includePending === true }, signal)).length;
  }
  return n;
}
