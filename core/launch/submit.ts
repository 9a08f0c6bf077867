/**
 * Starting and cancelling jobs: the one code path the CLI and the Slack bot share.
 */
import { newJobRows, isTerminalRepo, type Job, type JobRequest, type RepoRow, type SlackThread } from "../jobs/index.ts";
import type { Launcher } from "./launcher.ts";
import type { Logger } from "../runtime/index.ts";
import type { Notifier } from "../jobs/index.ts";
import type { Store } from "../jobs/index.ts";

export type SubmitDeps = {
  store: Pick<Store, "createJob" | "setJobFields" | "getJob"> & Partial<Pick<Store, "finishRepo" | "finalizeIfDone">>;
  launcher: Pick<Launcher, "submit">;
  notifier: Pick<Notifier, "jobCreated"> & Partial<Pick<Notifier, "jobFinished">>;
  log: Logger;
  now?: () => Date;
};

export type SubmitResult = { kind: "created"; job: Job } | { kind: "exists"; job: Job };

/**
 * Creates the job (rows first, job row last, so nothing is half-written), announces it, and
 * launches it. Idempotent on `jobId`: a second call with the same id returns `exists` and
 * neither announces nor launches again. `slack` may carry a thread root posted beforehand.
 * Throws with a cause when the store or the launcher fails.
 */
export async function submitJob(
  deps: SubmitDeps,
  input: { jobId: string; request: JobRequest & { name: string }; slack?: SlackThread },
  signal?: AbortSignal,
): Promise<SubmitResult> {
  const now = deps.now?.() ?? new Date();
  const { job, repos } = newJobRows(input.jobId, { ...input.request, ...(input.slack ? { slack: input.slack } : {}) }, now);
  const created = await deps.store.createJob(job, repos, signal);
  if (created.kind === "exists") return created;
  const log = deps.log.child({ jobId: job.jobId });
  let thread: SlackThread | undefined;
  try {
    thread = await deps.notifier.jobCreated(job, signal);
    // Stored before any runner starts, so every runner's reply finds the thread.
    if (thread) await deps.store.setJobFields(job.jobId, { slack: thread }, signal);
  } catch (err) {
    log.warn({ err }, "announcing the job failed; launching anyway");
  }
  let batchJobId: string;
  try {
    ({ batchJobId } = await deps.launcher.submit(job, signal));
  } catch (err) {
    // Nothing will run these repositories: end them now, with the reason, so the job finishes.
    log.error({ err }, "launching the runners failed");
    await failUnlaunched(deps, job, repos);
    throw new Error(`launch job ${job.jobId}`, { cause: err });
  }
  await deps.store.setJobFields(job.jobId, { batchJobId }, signal);
  log.info({ batchJobId, repositories: repos.length }, "job launched");
  return { kind: "created", job: { ...job, batchJobId, ...(thread ? { slack: thread } : {}) } };
}

/** Ends every repository of a job whose runners could not be launched as FAILED, and finalizes it. */
async function failUnlaunched(deps: SubmitDeps, job: Job, repos: readonly RepoRow[]): Promise<void> {
  const { finishRepo, finalizeIfDone } = deps.store;
  if (!finishRepo || !finalizeIfDone) return;
  try {
    for (const r of repos) await finishRepo(r, ["PENDING"], "FAILED", { error: "could not start the runners (see the bot's log)" });
    const finalized = await finalizeIfDone(job.jobId, new Date());
    if (finalized) await deps.notifier.jobFinished?.(finalized);
  } catch (err) {
    deps.log.error({ err, jobId: job.jobId }, "could not record the failed launch; the watchdog will");
  }
}

export type CancelDeps = {
  store: Pick<Store, "markJobCancelled" | "listRepos" | "finishRepo" | "finalizeIfDone" | "requestRepoCancel">;
  launcher: Pick<Launcher, "cancel">;
  notifier: Pick<Notifier, "jobFinished" | "progress">;
  log: Logger;
  now?: () => Date;
};

export type CancelResult =
  | { kind: "cancelled"; job: Job; pendingCancelled: number }
  | { kind: "already_finished"; job: Job }
  | { kind: "not_found" };

/**
 * Cancels a job: marks it CANCELLED (runners stop at their next step and push nothing after),
 * ends every PENDING repository as CANCELLED at once, asks the launcher to stop what it started,
 * and finalizes the job when nothing is left running. Authorization is the caller's business.
 */
export async function cancelJob(deps: CancelDeps, input: { jobId: string; by: string }, signal?: AbortSignal): Promise<CancelResult> {
  const now = deps.now?.() ?? new Date();
  const marked = await deps.store.markJobCancelled(input.jobId, input.by, now, signal);
  if (!marked) return { kind: "not_found" };
  if (marked.kind === "already_finished") return { kind: "already_finished", job: marked.job };
  const rows = await deps.store.listRepos(input.jobId, signal);
  let pendingCancelled = 0;
  const open = rows.filter((r) => !isTerminalRepo(r.status));
  for (let i = 0; i < open.length; i += 16) {
    const results = await Promise.all(
      open.slice(i, i + 16).map(async (r) => {
        // A PENDING row ends now; a live one (or one a runner claimed meanwhile) is flagged so its
        // runner stops at its next step and can no longer start pushing.
        if (r.status === "PENDING" && (await deps.store.finishRepo(r, ["PENDING"], "CANCELLED", { error: `cancelled by ${input.by}` }, signal))) return true;
        await deps.store.requestRepoCancel(r, signal);
        return false;
      }),
    );
    pendingCancelled += results.filter(Boolean).length;
  }
  try {
    await deps.launcher.cancel(marked.job, signal);
  } catch (err) {
    deps.log.warn({ err, jobId: input.jobId }, "launcher could not cancel; runners will stop at their next step");
  }
  const finalized = await deps.store.finalizeIfDone(input.jobId, new Date(), signal);
  try {
    if (finalized) await deps.notifier.jobFinished(finalized, signal);
    else await deps.notifier.progress(marked.job, signal);
  } catch (err) {
    // The cancel itself succeeded: a Slack hiccup must not report it as failed.
    deps.log.warn({ err, jobId: input.jobId }, "reporting the cancel failed");
  }
  const live = rows.filter((r) => !isTerminalRepo(r.status) && r.status !== "PENDING").length;
  deps.log.info({ jobId: input.jobId, pendingCancelled, live }, "job cancelled");
  return { kind: "cancelled", job: finalized ?? marked.job, pendingCancelled };
}
