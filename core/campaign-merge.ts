/**
 * `cody merge` and `cody close`: GitHub-only campaign actions over a job's pull requests, each
 * PR deciding for itself (see core/campaign.ts for recording and announcing). Both refresh the
 * PRs first, so they decide on GitHub's current word, and write the new PR state to the rows.
 */
import { branchFor, type PullRequestStatus, type RepoRow } from "./job.ts";
import type { MergeMethod } from "./campaign-forge.ts";
import { finishAction, type ActionOutcome, type CampaignDeps, type RepoResult } from "./campaign.ts";
import { refreshJob } from "./pr-tracking.ts";

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

async function withRefreshedRows(deps: CampaignDeps, jobId: string, signal?: AbortSignal): Promise<RepoRow[]> {
  if (deps.readPr) await refreshJob({ store: deps.store, readPr: deps.readPr, log: deps.log }, jobId, {}, signal);
  return deps.store.listRepos(jobId, signal);
}

async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
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
  const job = await deps.store.getJob(input.jobId, signal);
  if (!job) return { kind: "not_found" };
  const forge = deps.forge;
  if (!forge) return { kind: "refused", reason: "merging needs GitHub access (GITHUB_TOKEN or a GitHub App)" };
  const rows = await withRefreshedRows(deps, job.jobId, signal);
  const results = new Map<string, RepoResult>();
  await eachLimited(rows, async (row) => {
    const name = row.repositoryName;
    const refusal = row.prNumber === undefined ? { kind: "skipped", reason: "no pull request" } : mergeRefusal(row.pr, input.force === true);
    if (refusal) return void results.set(name, { repository: name, ...refusal });
    const pr = row.pr!;
    const r = await forge.merge(name, pr.number, { method: input.method ?? "squash", sha: pr.headSha }, signal);
    if (r.kind === "refused") return void results.set(name, { repository: name, kind: "failed", reason: r.reason });
    row.pr = { ...pr, state: "merged", refreshedAt: new Date().toISOString() };
    await deps.store.setRepoPr(job.jobId, name, row.pr, signal);
    results.set(name, { repository: name, kind: "merged" });
  });
  const ordered = rows.map((r) => results.get(r.repositoryName)!);
  return { kind: "done", summary: await finishAction(deps, job, "merge", input.by, ordered, rows, signal) };
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
  const job = await deps.store.getJob(input.jobId, signal);
  if (!job) return { kind: "not_found" };
  const forge = deps.forge;
  if (!forge) return { kind: "refused", reason: "closing PRs needs GitHub access (GITHUB_TOKEN or a GitHub App)" };
  const rows = await withRefreshedRows(deps, job.jobId, signal);
  const branch = branchFor(job.jobId);
  const results = new Map<string, RepoResult>();
  await eachLimited(rows, async (row) => {
    const name = row.repositoryName;
    const pr = row.pr;
    const set = (kind: string, reason?: string) => void results.set(name, { repository: name, kind, ...(reason ? { reason } : {}) });
    if (row.prNumber === undefined || !pr) return set("skipped", "no pull request");
    if (pr.state === "merged") return set("skipped", "already merged");
    if (pr.state !== "closed") {
      if (input.comment) {
        const c = await forge.comment(name, pr.number, input.comment, signal);
        if (c.kind === "refused") return set("failed", c.reason);
      }
      const closed = await forge.close(name, pr.number, signal);
      if (closed.kind === "refused") return set(closed.reason.startsWith("already merged") ? "skipped" : "failed", closed.reason);
      row.pr = { ...pr, state: "closed", refreshedAt: new Date().toISOString() };
      await deps.store.setRepoPr(job.jobId, name, row.pr, signal);
    }
    if (input.deleteBranch) {
      const d = await forge.deleteBranch(name, branch, signal);
      if (d.kind === "refused") return set("failed", `closed, but the branch stays: ${d.reason}`);
    }
    set(pr.state === "closed" ? "skipped" : "closed", pr.state === "closed" ? `already closed${input.deleteBranch ? "; branch deleted" : ""}` : undefined);
  });
  const ordered = rows.map((r) => results.get(r.repositoryName)!);
  return { kind: "done", summary: await finishAction(deps, job, "close", input.by, ordered, rows, signal) };
}
