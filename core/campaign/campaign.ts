/**
 * The campaign's bulk actions after a job's pull requests, as plain functions the CLI and the
 * Slack bot share. Each action decides per repository (its own result and reason; never
 * all-or-nothing), records itself on the job (who, when, what, per-repository results) and is
 * announced into the job's thread as one summary reply.
 *
 * - publish / retry / update relaunch repositories of the same job (same branch, same PR): the
 *   rows are reset by the explicit retry of the store (counters and replies made right), the job
 *   reopened, and the launcher starts only those indexes. publish flags rows `replayDiff` so the
 *   runner applies the preview's stored diff instead of running the change (runner/replay-diff.ts).
 * - merge / close talk to GitHub only (core/campaign/campaign-merge.ts).
 */
import { campaignSummary, type CampaignAction, type CampaignActionRecord, type Job, type RepoRow } from "../jobs/index.ts";
import type { Launcher } from "../launch/index.ts";
import type { Logger } from "../runtime/index.ts";
import { refreshJob, type PrReader } from "../github/index.ts";
import type { Store } from "../jobs/index.ts";
import type { CampaignForge } from "./campaign-forge.ts";

/** How one repository came out of an action. `kind` is e.g. launched, merged, closed, skipped, failed. */
export type RepoResult = { repository: string; kind: string; reason?: string };

/** An action as it is recorded and announced. */
export type ActionSummary = CampaignActionRecord & { jobId: string; jobName: string; all: RepoResult[] };

export type ActionOutcome =
  | { kind: "done"; summary: ActionSummary }
  | { kind: "not_found" }
  /** The action cannot run on this job at all (still running, no GitHub access). Nothing was written. */
  | { kind: "refused"; reason: string };

export type CampaignDeps = {
  store: Pick<Store, "getJob" | "listRepos" | "resetRepo" | "reopenJob" | "recordAction" | "setRepoPr" | "setJobCampaign" | "setJobFields" | "finishRepo" | "finalizeIfDone">;
  launcher: Pick<Launcher, "submit">;
  /** GitHub writes (merge, close); absent without GitHub settings. */
  forge?: CampaignForge;
  /** PR reads (refresh before deciding); absent without GitHub settings. */
  readPr?: PrReader;
  /** Posts the action's summary into the job's thread (Slack) or prints it; errors are logged, never fatal. */
  announce?: (job: Job, summary: ActionSummary, signal?: AbortSignal) => Promise<void>;
  log: Logger;
  now?: () => Date;
};

/** Why opening pull requests is refused without GitHub settings (publish, `--pr`, the modal's checkbox). */
export const NO_GITHUB_FOR_PRS = "opening pull requests needs GitHub access: set GITHUB_TOKEN (or a GitHub App); without it, run a preview (no --pr) and publish it once GitHub is set";

/** Results kept on the job row per action (the thread reply carries them all). */
const RECORDED_RESULTS = 50;

/**
 * Records the action on the job, refreshes its burndown from `rows`, and announces it. Returns the
 * summary. Announcing failures are logged.
 */
export async function finishAction(
  deps: CampaignDeps,
  job: Job,
  action: CampaignAction,
  by: string,
  results: RepoResult[],
  rows?: readonly RepoRow[],
  signal?: AbortSignal,
): Promise<ActionSummary> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
  const at = (deps.now?.() ?? new Date()).toISOString();
  const record: CampaignActionRecord = { action, by, at, counts, results: results.filter((r) => r.reason).slice(0, RECORDED_RESULTS) };
  await deps.store.recordAction(job.jobId, record, signal);
  if (rows) await deps.store.setJobCampaign(job.jobId, campaignSummary(rows, at), signal);
  const summary: ActionSummary = { ...record, jobId: job.jobId, jobName: job.name, all: results };
  deps.log.info({ jobId: job.jobId, action, by, counts }, "campaign action finished");
  if (deps.announce) await deps.announce(job, summary, signal).catch((err: unknown) => deps.log.warn({ err, jobId: job.jobId, action }, "announcing the action failed"));
  return summary;
}

/** A row picked for relaunch, or left alone with a reason. */
export type Pick_ = { row: RepoRow; relaunch: true } | { row: RepoRow; relaunch: false; kind: string; reason: string };

/**
 * Resets the picked rows (explicit retry), reopens the job and launches only their indexes.
 * Refused while the job still runs. A row someone else moved meanwhile is reported skipped.
 */
export async function relaunch(
  deps: CampaignDeps,
  job: Job,
  action: CampaignAction,
  by: string,
  picks: Pick_[],
  opts: { replayDiff?: boolean },
  signal?: AbortSignal,
): Promise<ActionOutcome> {
  const chosen = picks.filter((p) => p.relaunch);
  if (chosen.length > 0 && !job.finishedAt) return { kind: "refused", reason: `job ${job.jobId} is still running; ${action} it once it has ended` };
  const results: RepoResult[] = [];
  const indexes: number[] = [];
  for (const p of picks) {
    if (!p.relaunch) {
      results.push({ repository: p.row.repositoryName, kind: p.kind, reason: p.reason });
      continue;
    }
    if (await deps.store.resetRepo(p.row, opts.replayDiff ? { replayDiff: true } : {}, signal)) {
      indexes.push(p.row.index);
      results.push({ repository: p.row.repositoryName, kind: "launched" });
    } else {
      results.push({ repository: p.row.repositoryName, kind: "skipped", reason: "changed meanwhile; look again" });
    }
  }
  if (indexes.length > 0) {
    const reopened = (await deps.store.reopenJob(job.jobId, signal)) ?? job;
    try {
      await deps.launcher.submit(reopened, signal, indexes);
    } catch (err) {
      deps.log.error({ err, jobId: job.jobId }, "launching the campaign action failed");
      for (const p of chosen) {
        if (!indexes.includes(p.row.index)) continue;
        await deps.store.finishRepo(p.row, ["PENDING"], "FAILED", { error: "could not start the runners (see the log)" }, signal);
        const r = results.find((x) => x.repository === p.row.repositoryName)!;
        Object.assign(r, { kind: "failed", reason: "could not start the runners" });
      }
      await deps.store.finalizeIfDone(job.jobId, new Date(), signal);
    }
  }
  return { kind: "done", summary: await finishAction(deps, job, action, by, results, undefined, signal) };
}

/**
 * `cody publish`: a preview (a job run without pull requests) opens them from what it computed.
 * Repositories COMPLETED with a stored diff and no PR are relaunched with `replayDiff`: the runner
 * applies the stored diff on the base, pushes `cody/<jobId>` and opens the PR; no script, no
 * Claude, no verify runs again. The job's pull-request options are set (`draft` as asked).
 */
export async function publishJob(deps: CampaignDeps, input: { jobId: string; by: string; draft?: boolean }, signal?: AbortSignal): Promise<ActionOutcome> {
  const job = await deps.store.getJob(input.jobId, signal);
  if (!job) return { kind: "not_found" };
  // Without GitHub the runner could only push branches: refused up front, not COMPLETED without a PR.
  if (!deps.forge) return { kind: "refused", reason: NO_GITHUB_FOR_PRS };
  const rows = await deps.store.listRepos(job.jobId, signal);
  const picks = rows.map((row): Pick_ => {
    if (row.prNumber !== undefined) return { row, relaunch: false, kind: "skipped", reason: `has PR #${row.prNumber} already` };
    if (row.status === "COMPLETED" && row.diffKey) return { row, relaunch: true };
    if (row.status === "NO_CHANGES") return { row, relaunch: false, kind: "skipped", reason: "no change to publish" };
    if (row.status === "FAILED") return { row, relaunch: false, kind: "skipped", reason: "failed in the preview; retry it first" };
    if (row.status === "CANCELLED") return { row, relaunch: false, kind: "skipped", reason: "cancelled in the preview; retry it first" };
    return { row, relaunch: false, kind: "skipped", reason: row.status === "COMPLETED" ? "no stored diff" : "still running" };
  });
  if (picks.some((p) => p.relaunch) && job.finishedAt && !job.createPullRequests) {
    await deps.store.setJobFields(job.jobId, { createPullRequests: true, pullRequest: { ...defaultPrOptions(), draft: input.draft ?? false } }, signal);
  }
  return relaunch(deps, job, "publish", input.by, picks, { replayDiff: true }, signal);
}

function defaultPrOptions() {
  return { draft: false, labels: [], reviewers: [], teamReviewers: [], assignees: [], minIntervalSeconds: 0 };
}

/**
 * `cody retry`: reruns the FAILED repositories (or the named ones, whatever terminal status they
 * have) in the same job: same branch, same PR, counters and thread kept right. Other rows are
 * reported as skipped with why.
 */
export async function retryJob(deps: CampaignDeps, input: { jobId: string; by: string; repositories?: readonly string[] }, signal?: AbortSignal): Promise<ActionOutcome> {
  const job = await deps.store.getJob(input.jobId, signal);
  if (!job) return { kind: "not_found" };
  const rows = await deps.store.listRepos(job.jobId, signal);
  const named = input.repositories?.length ? new Set(input.repositories.map((r) => r.toLowerCase())) : undefined;
  if (named) {
    const known = new Set(rows.map((r) => r.repositoryName.toLowerCase()));
    const unknown = [...named].filter((n) => !known.has(n));
    if (unknown.length > 0) return { kind: "refused", reason: `not in job ${job.jobId}: ${unknown.join(", ")}` };
  }
  const picks = rows.map((row): Pick_ => {
    if (named && !named.has(row.repositoryName.toLowerCase())) return { row, relaunch: false, kind: "skipped", reason: "not named" };
    if (!named && row.status !== "FAILED") return { row, relaunch: false, kind: "skipped", reason: `${row.status.toLowerCase().replace("_", " ")}, not failed` };
    if (row.status === "PENDING" || row.status === "CLONING" || row.status === "RUNNING" || row.status === "PUSHING") return { row, relaunch: false, kind: "skipped", reason: "still running" };
    return { row, relaunch: true };
  });
  return relaunch(deps, job, "retry", input.by, picks, {}, signal);
}

/**
 * `cody update`: for open PRs that conflict with their base or are behind it (GitHub's
 * mergeable_state `dirty`/`behind`; `all` takes every open PR), redoes the change on the current
 * base (script or Claude) and pushes the same branch (others' commits there kept or refused by
 * the job's onConflict, runner/branch-head.ts), which updates the same PR. The PRs
 * are refreshed first; every other repository says why it was left alone.
 */
export async function updateJob(deps: CampaignDeps, input: { jobId: string; by: string; all?: boolean; refreshed?: boolean }, signal?: AbortSignal): Promise<ActionOutcome> {
  const job = await deps.store.getJob(input.jobId, signal);
  if (!job) return { kind: "not_found" };
  if (!deps.readPr) return { kind: "refused", reason: "updating PRs needs GitHub access (GITHUB_TOKEN or a GitHub App)" };
  // `refreshed`: the chunked run (core/campaign/campaign-chunks.ts) refreshed the PRs chunk by chunk already.
  if (!input.refreshed) await refreshJob({ store: deps.store, readPr: deps.readPr, log: deps.log }, job.jobId, {}, signal);
  const rows = await deps.store.listRepos(job.jobId, signal);
  const picks = rows.map((row): Pick_ => {
    const pr = row.pr;
    if (row.prNumber === undefined || !pr) return { row, relaunch: false, kind: "skipped", reason: "no pull request" };
    if (pr.state === "merged" || pr.state === "closed") return { row, relaunch: false, kind: "skipped", reason: `PR ${pr.state}` };
    if (pr.conflicting || pr.mergeableState === "behind" || input.all) return { row, relaunch: true };
    return { row, relaunch: false, kind: "up_to_date", reason: `up to date with ${pr.baseRef}` };
  });
  return relaunch(deps, job, "update", input.by, picks, {}, signal);
}
