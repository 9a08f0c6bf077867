/**
 * `cody merge` and `cody close`: GitHub-only campaign actions over a job's pull requests, each
 * PR deciding for itself (see core/campaign/campaign.ts for recording and announcing). Both refresh the
 * PRs first, so they decide on GitHub's current word, and write the new PR state to the rows.
 */
import { branchFor, type Job, type PullRequestStatus, type RepoRow } from "../jobs/index.ts";
import type { CampaignForge, MergeMethod } from "./campaign-forge.ts";
import { finishAction, type ActionOutcome, type CampaignDeps, type RepoResult } from "./campaign.ts";
import { refreshJob } from "../github/index.ts";

/** PRs merged or closed at once (Octokit paces writes 1 s apart per process anyway). */
const CONCURRENCY = 4;

/**
 * Why an open PR may not be merged, or undefined when it may. Without `force` it must be open
 * (not draft), free of conflicts, with passing checks and an approving review; with `force`,
 * only open, not draft and free of conflicts (GitHub's branch protection still has the last word).
 */
export function mergeRefusal(pr: PullRequestStatus | undefined, force: boolean): { kind: string; reason: string } | undefined {
  if (!pr) return { kind: "skipped", reason: "no pull request" };
  if (pr.state === "merged") return { kind: "skipped", reason: "already merged" };
  if (pr.state === "closed") return { kind: "skipped", reason: "PR closed" };
  if (pr.state === "draft") return { kind: "skipped", reason: "draft; mark it ready for review first" };
  if (pr.conflicting) return { kind: "skipped", reason: `conflicts with ${pr.baseRef}; run cody update` };
  if (force) return undefined;
  if (pr.checks === "failing") return { kind: "skipped", reason: `checks failing: ${pr.failingChecks.join(", ") || "unknown"}` };
  if (pr.checks === "pending") return { kind: "skipped", reason: "checks still running" };
  if (pr.review === "changes_requested") return { kind: "skipped", reason: "changes requested" };
  if (pr.review !== "approved") return { kind: "skipped", reason: "waiting for review" };
  return undefined;
}

/**
 * The shared run of merge and close: the job, GitHub access, the PRs refreshed, then `decide` for
 * every row (CONCURRENCY at once), results in row order, recorded and announced.
 */
async function forEachRow(
  deps: CampaignDeps,
  input: { jobId: string; by: string },
  action: "merge" | "close",
  decide: (row: RepoRow, forge: CampaignForge, job: Job) => Promise<Omit<RepoResult, "repository">>,
  signal?: AbortSignal,
): Promise<ActionOutcome> {
  const job = await deps.store.getJob(input.jobId, signal);
  if (!job) return { kind: "not_found" };
  const forge = deps.forge;
  if (!forge) return { kind: "refused", reason: `${action === "merge" ? "merging" : "closing"} PRs needs GitHub access (GITHUB_TOKEN or a GitHub App)` };
  if (deps.readPr) await refreshJob({ store: deps.store, readPr: deps.readPr, log: deps.log }, job.jobId, {}, signal);
  const rows = await deps.store.listRepos(job.jobId, signal);
  const results = new Map<string, RepoResult>();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rows.length) }, async () => {
    while (next < rows.length) {
      const row = rows[next++]!;
      results.set(row.repositoryName, { repository: row.repositoryName, ...(await decide(row, forge, job)) });
    }
  }));
  const ordered = rows.map((r) => results.get(r.repositoryName)!);
  return { kind: "done", summary: await finishAction(deps, job, action, input.by, ordered, rows, signal) };
}

/**
 * Merges the job's PRs that may be merged (see {@link mergeRefusal}) with `method`, each at the
 * head sha last seen (GitHub answers 409 when it moved). A 405/409 is that repository's reason.
 */
export async function mergeJob(
  deps: CampaignDeps,
  input: { jobId: string; by: string; method?: MergeMethod; force?: boolean },
  signal?: AbortSignal,
): Promise<ActionOutcome> {
  return forEachRow(deps, input, "merge", async (row, forge, job) => {
    const refusal = row.prNumber === undefined ? { kind: "skipped", reason: "no pull request" } : mergeRefusal(row.pr, input.force === true);
    if (refusal) return refusal;
    const pr = row.pr!;
    const r = await forge.merge(row.repositoryName, pr.number, { method: input.method ?? "squash", sha: pr.headSha }, signal);
    if (r.kind === "refused") return { kind: "failed", reason: r.reason };
    row.pr = { ...pr, state: "merged", refreshedAt: new Date().toISOString() };
    await deps.store.setRepoPr(job.jobId, row.repositoryName, row.pr, signal);
    return { kind: "merged" };
  }, signal);
}

/**
 * Closes the job's open PRs (a comment first when given), and with `deleteBranch` deletes
 * `cody/<jobId>` of every closed one. A merged PR is left alone ("already merged").
 */
export async function closeJob(
  deps: CampaignDeps,
  input: { jobId: string; by: string; comment?: string; deleteBranch?: boolean },
  signal?: AbortSignal,
): Promise<ActionOutcome> {
  return forEachRow(deps, input, "close", async (row, forge, job) => {
    const name = row.repositoryName;
    const pr = row.pr;
    if (row.prNumber === undefined || !pr) return { kind: "skipped", reason: "no pull request" };
    if (pr.state === "merged") return { kind: "skipped", reason: "already merged" };
    if (pr.state !== "closed") {
      if (input.comment) {
        const c = await forge.comment(name, pr.number, input.comment, signal);
        if (c.kind === "refused") return { kind: "failed", reason: c.reason };
      }
      const closed = await forge.close(name, pr.number, signal);
      if (closed.kind === "refused") return { kind: closed.reason.startsWith("already merged") ? "skipped" : "failed", reason: closed.reason };
      row.pr = { ...pr, state: "closed", refreshedAt: new Date().toISOString() };
      await deps.store.setRepoPr(job.jobId, name, row.pr, signal);
    }
    if (input.deleteBranch) {
      const d = await forge.deleteBranch(name, branchFor(job.jobId), signal);
      if (d.kind === "refused") return { kind: "failed", reason: `closed, but the branch stays: ${d.reason}` };
    }
    return pr.state === "closed" ? { kind: "skipped", reason: `already closed${input.deleteBranch ? "; branch deleted" : ""}` } : { kind: "closed" };
  }, signal);
}
