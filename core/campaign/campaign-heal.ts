/**
 * `cody heal` and the Slack "Heal failing" button (issue 19): for the open PRs of a job whose
 * checks fail, read the failed checks' output from GitHub and relaunch those repositories in
 * heal mode (runner/heal.ts: the agent on the PR's branch with that output, verify, the judge,
 * one new commit, no force-push). A failure shared by many PRs is systematic: reported once
 * and healed on none of them. Each PR gets at most its attempts (`--heal N`, else 1).
 */
import { relaunch, type ActionOutcome, type CampaignDeps, type Pick_ } from "./campaign.ts";
import { failureContext, refreshJob, systematicFailures, type CheckFailure, type FailureReader, type Systematic } from "../github/index.ts";
import type { Job, Store, SystematicFailure } from "../jobs/index.ts";

/** What healing needs beyond the campaign's dependencies. */
export type HealDeps = Omit<CampaignDeps, "store"> & {
  store: CampaignDeps["store"] & Pick<Store, "setHealContext" | "addSystematic">;
  /** Reads a commit's failed checks; absent without GitHub settings. */
  readFailures?: FailureReader;
  /** Tells the job's thread (or the terminal) about newly found systematic failures, once each. */
  reportSystematic?: (job: Job, found: readonly SystematicFailure[], signal?: AbortSignal) => Promise<void>;
};

/** Attempts per PR when the job sets none (`cody heal`, the button). */
export const DEFAULT_HEAL_ATTEMPTS = 1;

/**
 * Heals the failing PRs of `jobId`: refreshes the PRs, reads each failing PR's checks, reports
 * new systematic failures (recorded on the job, announced once), and relaunches the others that
 * have attempts left. `auto` (tracking saw failures on a job with `heal` > 0) does nothing when
 * the job sets no attempts. Per repository: launched, systematic, exhausted, passing, pending,
 * skipped, failed (unreadable checks). Refused without GitHub access or while the job runs.
 */
export async function healJob(deps: HealDeps, input: { jobId: string; by: string; auto?: boolean; attempts?: number }, signal?: AbortSignal): Promise<ActionOutcome> {
  const job = await deps.store.getJob(input.jobId, signal);
  if (!job) return { kind: "not_found" };
  if (!deps.readPr || !deps.readFailures) return { kind: "refused", reason: "healing PRs needs GitHub access (GITHUB_TOKEN or a GitHub App)" };
  if (input.auto && !job.heal) return { kind: "refused", reason: `job ${job.jobId} heals only on request (no --heal N)` };
  await refreshJob({ store: deps.store, readPr: deps.readPr, log: deps.log }, job.jobId, {}, signal);
  const rows = await deps.store.listRepos(job.jobId, signal);
  const prs = rows.filter((r) => r.prNumber !== undefined).length;
  const limit = input.attempts ?? (job.heal && job.heal > 0 ? job.heal : DEFAULT_HEAL_ATTEMPTS);

  const failures = new Map<string, CheckFailure[]>();
  const unreadable = new Map<string, string>();
  for (const row of rows) {
    if (row.pr?.state !== "open" && row.pr?.state !== "draft") continue;
    if (row.pr.checks !== "failing") continue;
    try {
      failures.set(row.repositoryName, await deps.readFailures({ repository: row.repositoryName, sha: row.pr.headSha }, signal));
    } catch (err) {
      deps.log.warn({ err, jobId: job.jobId, repository: row.repositoryName }, "reading failed checks failed");
      unreadable.set(row.repositoryName, "could not read the failed checks from GitHub");
    }
  }
  const systematic = systematicFailures(failures, prs);
  await reportNew(deps, job, systematic, signal);

  const picks = rows.map((row): Pick_ => {
    const pr = row.pr;
    if (row.prNumber === undefined || !pr) return { row, relaunch: false, kind: "skipped", reason: "no pull request" };
    if (pr.state === "merged" || pr.state === "closed") return { row, relaunch: false, kind: "skipped", reason: `PR ${pr.state}` };
    if (pr.checks !== "failing") return { row, relaunch: false, kind: pr.checks === "passing" ? "passing" : "pending", reason: `checks ${pr.checks}` };
    const unread = unreadable.get(row.repositoryName);
    if (unread) return { row, relaunch: false, kind: "failed", reason: unread };
    const hit = systematic.find((s) => s.repositories.includes(row.repositoryName));
    if (hit) return { row, relaunch: false, kind: "systematic", reason: `${hit.check}: ${hit.firstLine} (on ${hit.repositories.length} of ${prs} PRs: fix the instructions, not each PR)` };
    const used = row.heals?.length ?? 0;
    if (used >= limit) return { row, relaunch: false, kind: "exhausted", reason: `${used} healing attempt${used === 1 ? "" : "s"} made (at most ${limit}); checks still fail` };
    return { row, relaunch: true };
  });
  for (const p of picks) {
    if (!p.relaunch) continue;
    const context = failureContext(failures.get(p.row.repositoryName) ?? []);
    if (!(await deps.store.setHealContext(job.jobId, p.row.repositoryName, context || "The pull request's checks fail; GitHub gave no output.", signal))) {
      Object.assign(p, { relaunch: false, kind: "skipped", reason: "changed meanwhile; look again" });
    }
  }
  return relaunch(deps, job, "heal", input.by, picks, {}, signal);
}

/** Records and reports the systematic failures the job has not reported yet. */
async function reportNew(deps: HealDeps, job: Job, found: readonly Systematic[], signal?: AbortSignal): Promise<void> {
  const known = new Set((job.systematic ?? []).map((s) => `${s.check}\u0000${s.firstLine}`));
  const at = (deps.now?.() ?? new Date()).toISOString();
  const fresh = found.filter((s) => !known.has(`${s.check}\u0000${s.firstLine}`)).map((s): SystematicFailure => ({ ...s, repositories: s.repositories.slice(0, 50), reportedAt: at }));
  if (fresh.length === 0) return;
  await deps.store.addSystematic(job.jobId, fresh, signal);
  deps.log.warn({ jobId: job.jobId, systematic: fresh.map((s) => ({ check: s.check, prs: s.repositories.length })) }, "systematic check failures found");
  await deps.reportSystematic?.({ ...job, systematic: [...(job.systematic ?? []), ...fresh] }, fresh, signal).catch((err: unknown) => deps.log.warn({ err, jobId: job.jobId }, "reporting systematic failures failed"));
}

/** The report of systematic failures, for people (Slack mrkdwn-safe plain text, the terminal). */
export function systematicText(found: readonly Pick<SystematicFailure, "check" | "firstLine" | "repositories">[]): string {
  return found
    .map((s) => `Systematic failure: check "${s.check}" fails with "${s.firstLine}" on ${s.repositories.length} PRs. Fix the instructions (or the check) rather than each PR; these PRs are not healed.`)
    .join("\n");
}
