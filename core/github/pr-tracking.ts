/**
 * Pull-request tracking: reads one PR's state through Octokit (state, mergeability, the combined
 * checks of its head commit, the review decision) with conditional requests, and refreshes every
 * PR of a job into its repository rows and the job's burndown (`job.campaign`).
 *
 * Pacing (a 1000-repository job must not exhaust a token's hour):
 * - every GET carries the ETag of the last answer (`If-None-Match`); a 304 costs no rate limit
 *   and reuses the stored value;
 * - a merged PR is final and never read again; a closed one costs one (usually 304) request;
 * - a pass spends at most `budget` requests that GitHub counts (non-304), oldest-refreshed rows
 *   first, so the next pass continues where this one stopped; it also stops when
 *   `x-ratelimit-remaining` falls under `reserve`, leaving the rest of the hour to the runners;
 * - at most `concurrency` PRs are read at once (GitHub's secondary limits).
 */
import type { Config } from "../config/index.ts";
import { newGitHub, statusOf, type GitHubClient, type GitHubOptions } from "./github.ts";
import {
  campaignSummary,
  type CampaignSummary,
  type CheckState,
  type Job,
  type PullRequestStatus,
  type RepoRow,
  type ReviewDecision,
} from "../jobs/index.ts";
import type { Logger } from "../runtime/index.ts";

/** What one read cost: requests GitHub counted (non-304) and the rate limit left afterwards. */
export type ReadCost = { counted: number; remaining?: number };

/** Reads a PR's tracked state; `previous` supplies the ETags. Throws on access or network errors. */
export type PrReader = (
  input: { repository: string; number: number; previous?: PullRequestStatus },
  signal?: AbortSignal,
) => Promise<{ status: PullRequestStatus; cost: ReadCost }>;

type Fresh<T> = { kind: "fresh"; data: T; etag?: string } | { kind: "not_modified" };

/**
 * The PrReader over an Octokit client (core/github/github.ts: throttled, retried, App or token auth).
 * Four GETs per open PR at most (pull, check runs, combined status, reviews), each conditional.
 */
export function newPrReader(octokitFor: (repository: string) => GitHubClient, now: () => Date = () => new Date()): PrReader {
  return async ({ repository, number, previous }, signal) => {
    const octokit = octokitFor(repository);
    const [owner = "", repo = ""] = repository.split("/");
    const cost: ReadCost = { counted: 0 };
    const cache = { ...(previous?.cache ?? {}) };

    async function get<T>(route: string, params: Record<string, unknown>, etag: string | undefined): Promise<Fresh<T>> {
      try {
        const r = await octokit.request(route, { owner, repo, ...params, headers: etag ? { "if-none-match": etag } : {}, request: { signal } });
        cost.counted += 1;
        noteRemaining(r.headers as Record<string, string | undefined>);
        return { kind: "fresh", data: r.data as T, ...(r.headers.etag ? { etag: String(r.headers.etag) } : {}) };
      } catch (err) {
        if (statusOf(err) === 304) {
          noteRemaining((err as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {});
          return { kind: "not_modified" };
        }
        throw err;
      }
    }
    function noteRemaining(headers: Record<string, string | undefined>) {
      const n = Number(headers["x-ratelimit-remaining"]);
      if (Number.isFinite(n) && headers["x-ratelimit-remaining"] !== undefined) cost.remaining = n;
    }

    const pull = await get<GhPull>("GET /repos/{owner}/{repo}/pulls/{pull_number}", { pull_number: number }, cache.pull?.etag);
    let base: NonNullable<NonNullable<PullRequestStatus["cache"]>["pull"]>["value"];
    if (pull.kind === "fresh") {
      base = pullFields(pull.data);
      if (pull.etag) cache.pull = { etag: pull.etag, value: base };
    } else if (cache.pull) {
      base = cache.pull.value;
    } else {
      throw new Error(`GitHub answered 304 for ${repository}#${number} without a stored answer`);
    }
    let checks: CheckState = previous?.checks ?? "pending";
    let failing = previous?.failingChecks ?? [];
    let review: ReviewDecision = previous?.review ?? "review_required";
    if (base.state === "open" || base.state === "draft") {
      const sha = base.headSha;
      const runsEtag = cache.checkRuns?.value.sha === sha ? cache.checkRuns.etag : undefined;
      const runs = await get<GhCheckRuns>("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", { ref: sha, per_page: 100 }, runsEtag);
      const fromRuns = runs.kind === "fresh" ? { sha, ...checkRunsState(runs.data) } : cache.checkRuns!.value;
      if (runs.kind === "fresh" && runs.etag) cache.checkRuns = { etag: runs.etag, value: fromRuns };
      const statusEtag = cache.status?.value.sha === sha ? cache.status.etag : undefined;
      const st = await get<GhCombinedStatus>("GET /repos/{owner}/{repo}/commits/{ref}/status", { ref: sha, per_page: 100 }, statusEtag);
      const fromStatus = st.kind === "fresh" ? { sha, ...combinedStatusState(st.data) } : cache.status!.value;
      if (st.kind === "fresh" && st.etag) cache.status = { etag: st.etag, value: fromStatus };
      ({ checks, failing } = combineChecks(fromRuns, fromStatus));
      const reviews = await get<GhReview[]>("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", { pull_number: number, per_page: 100 }, cache.reviews?.etag);
      if (reviews.kind === "fresh") {
        review = reviewDecision(reviews.data);
        if (reviews.etag) cache.reviews = { etag: reviews.etag, value: review };
      } else if (cache.reviews) review = cache.reviews.value;
    }
    return {
      status: { ...base, checks, failingChecks: failing, review, refreshedAt: now().toISOString(), cache },
      cost,
    };
  };
}

type GhPull = {
  number: number;
  state: "open" | "closed";
  draft?: boolean;
  merged?: boolean;
  merged_at?: string | null;
  mergeable?: boolean | null;
  mergeable_state?: string;
  head: { sha: string };
  base: { ref: string };
};
type GhCheckRuns = { total_count: number; check_runs: Array<{ name: string; status: string; conclusion: string | null }> };
type GhCombinedStatus = { state: string; total_count: number; statuses: Array<{ context: string; state: string }> };
type GhReview = { user: { login: string } | null; state: string; submitted_at?: string };

function pullFields(p: GhPull): NonNullable<NonNullable<PullRequestStatus["cache"]>["pull"]>["value"] {
  const state = p.merged || p.merged_at ? "merged" : p.state === "closed" ? "closed" : p.draft ? "draft" : "open";
  return {
    number: p.number,
    state,
    ...(typeof p.mergeable === "boolean" ? { mergeable: p.mergeable } : {}),
    conflicting: p.mergeable === false || p.mergeable_state === "dirty",
    ...(p.mergeable_state ? { mergeableState: p.mergeable_state } : {}),
    headSha: p.head.sha,
    baseRef: p.base.ref,
  };
}

const FAILED_CONCLUSIONS = new Set(["failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"]);

/** The state of a commit's check runs: failing names, else pending while any runs, else passing. */
export function checkRunsState(data: GhCheckRuns): { checks: CheckState; failing: string[] } {
  const failing = data.check_runs.filter((r) => r.status === "completed" && FAILED_CONCLUSIONS.has(r.conclusion ?? "")).map((r) => r.name);
  if (failing.length > 0) return { checks: "failing", failing };
  return { checks: data.check_runs.some((r) => r.status !== "completed") ? "pending" : "passing", failing: [] };
}

/** The state of a commit's combined status; no statuses at all count as passing (GitHub says "pending"). */
export function combinedStatusState(data: GhCombinedStatus): { checks: CheckState; failing: string[] } {
  if (data.total_count === 0 || data.statuses.length === 0) return { checks: "passing", failing: [] };
  const failing = data.statuses.filter((s) => s.state === "failure" || s.state === "error").map((s) => s.context);
  if (failing.length > 0) return { checks: "failing", failing };
  return { checks: data.statuses.some((s) => s.state === "pending") ? "pending" : "passing", failing: [] };
}

/** Check runs and commit statuses together: failing beats pending beats passing. */
export function combineChecks(...parts: Array<{ checks: CheckState; failing: string[] }>): { checks: CheckState; failing: string[] } {
  const failing = [...new Set(parts.flatMap((p) => p.failing))].slice(0, 20);
  if (failing.length > 0 || parts.some((p) => p.checks === "failing")) return { checks: "failing", failing };
  return { checks: parts.some((p) => p.checks === "pending") ? "pending" : "passing", failing: [] };
}

/**
 * The review decision from the reviews list (REST has no reviewDecision): the latest APPROVED,
 * CHANGES_REQUESTED or DISMISSED review of each reviewer counts; one change request wins.
 */
export function reviewDecision(reviews: readonly GhReview[]): ReviewDecision {
  const latest = new Map<string, string>();
  for (const r of reviews) {
    if (!r.user || !["APPROVED", "CHANGES_REQUESTED", "DISMISSED"].includes(r.state)) continue;
    latest.set(r.user.login.toLowerCase(), r.state);
  }
  const states = [...latest.values()];
  if (states.includes("CHANGES_REQUESTED")) return "changes_requested";
  return states.includes("APPROVED") ? "approved" : "review_required";
}

/** Store methods the refresh uses. */
export type TrackingStore = {
  getJob(jobId: string, signal?: AbortSignal): Promise<Job | undefined>;
  listRepos(jobId: string, signal?: AbortSignal): Promise<RepoRow[]>;
  setRepoPr(jobId: string, repositoryName: string, pr: PullRequestStatus, signal?: AbortSignal): Promise<void>;
  setJobCampaign(jobId: string, summary: CampaignSummary, signal?: AbortSignal): Promise<void>;
};

export type RefreshDeps = { store: TrackingStore; readPr: PrReader; log: Logger; now?: () => Date };

export type RefreshOptions = {
  /** Most requests GitHub counts (non-304) this pass may spend (default: no limit but `reserve`). */
  budget?: number;
  /** Stop when GitHub says fewer requests than this are left in the hour (default 500). */
  reserve?: number;
  /** Rows refreshed more recently than this many ms ago are left alone (default 0). */
  minAgeMs?: number;
  /** PRs read at once (default 4). */
  concurrency?: number;
  /** Only these repositories (default every row with a pull request). */
  only?: readonly string[];
};

export type RefreshResult = {
  refreshed: number;
  /** Rows left for a later pass (budget or reserve reached, or refreshed recently). */
  deferred: number;
  failed: { repository: string; reason: string }[];
  /** Requests GitHub counted. */
  counted: number;
  summary: CampaignSummary;
};

/**
 * Refreshes the PR state of a job's repositories (rows with `prNumber`), oldest first, within the
 * options' pacing, writing each row's `pr` and then the job's burndown. A PR that cannot be read
 * (access, 404) is reported in `failed` and keeps its previous state. Throws only for store errors.
 */
export async function refreshJob(deps: RefreshDeps, jobId: string, opts: RefreshOptions = {}, signal?: AbortSignal): Promise<RefreshResult> {
  const now = deps.now ?? (() => new Date());
  const rows = await deps.store.listRepos(jobId, signal);
  const only = opts.only ? new Set(opts.only.map((r) => r.toLowerCase())) : undefined;
  const due = rows
    .filter((r) => r.prNumber !== undefined && (!only || only.has(r.repositoryName.toLowerCase())))
    .filter((r) => r.pr?.state !== "merged")
    .sort((a, b) => (a.pr?.refreshedAt ?? "").localeCompare(b.pr?.refreshedAt ?? ""));
  const minAge = opts.minAgeMs ?? 0;
  const reserve = opts.reserve ?? 500;
  const budget = opts.budget ?? Infinity;
  const result: RefreshResult = { refreshed: 0, deferred: 0, failed: [], counted: 0, summary: campaignSummary(rows) };
  let remaining: number | undefined;
  let stopped = false;
  const byName = new Map(rows.map((r) => [r.repositoryName, r]));
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const row = due[next++]!;
      const fresh = row.pr && now().getTime() - Date.parse(row.pr.refreshedAt) < minAge;
      // Four requests at most per PR: do not start one the budget cannot pay for.
      if (fresh || stopped || result.counted + 4 > budget || (remaining !== undefined && remaining < reserve)) {
        stopped ||= !fresh;
        result.deferred += 1;
        continue;
      }
      try {
        const { status, cost } = await deps.readPr({ repository: row.repositoryName, number: row.prNumber!, ...(row.pr ? { previous: row.pr } : {}) }, signal);
        result.counted += cost.counted;
        if (cost.remaining !== undefined) remaining = cost.remaining;
        await deps.store.setRepoPr(jobId, row.repositoryName, status, signal);
        byName.set(row.repositoryName, { ...row, pr: status });
        result.refreshed += 1;
      } catch (err) {
        if (signal?.aborted) throw err;
        const code = statusOf(err) ?? statusOf((err as { cause?: unknown }).cause);
        const reason = code === 404 ? "pull request not found (deleted, or no access)" : code === 401 || code === 403 ? "no access to the pull request" : `could not read the pull request (${code ?? "network"})`;
        deps.log.warn({ jobId, repo: row.repositoryName, status: code }, "pull request refresh failed");
        result.failed.push({ repository: row.repositoryName, reason });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, due.length)) }, worker));
  result.summary = campaignSummary([...byName.values()], now().toISOString());
  await deps.store.setJobCampaign(jobId, result.summary, signal);
  return result;
}

/**
 * The scheduled sweep's part: refreshes every recent job with pull requests whose campaign is not
 * done, sharing one request budget across jobs (rows refreshed within `minAgeMs` skipped).
 * Returns how many jobs and PRs it refreshed.
 */
export async function refreshOpenCampaigns(
  deps: RefreshDeps & {
    store: TrackingStore & { listJobs(limit: number, signal?: AbortSignal): Promise<Job[]> };
    /** Called for a job whose burndown changed (e.g. to update its Slack root); errors are logged. */
    onChanged?: (jobId: string, signal?: AbortSignal) => Promise<void>;
  },
  opts: RefreshOptions & { limit?: number },
  signal?: AbortSignal,
): Promise<{ jobs: number; refreshed: number; counted: number }> {
  const jobs = (await deps.store.listJobs(opts.limit ?? 100, signal)).filter(isOpenCampaign);
  let budget = opts.budget ?? Infinity;
  const out = { jobs: 0, refreshed: 0, counted: 0 };
  for (const job of jobs) {
    if (budget < 4) break;
    const r = await refreshJob(deps, job.jobId, { ...opts, budget }, signal);
    budget -= r.counted;
    if (deps.onChanged && !sameBurndown(job.campaign, r.summary)) {
      await deps.onChanged(job.jobId, signal).catch((err: unknown) => deps.log.warn({ err, jobId: job.jobId }, "reporting a campaign change failed"));
    }
    out.jobs += 1;
    out.refreshed += r.refreshed;
    out.counted += r.counted;
  }
  if (out.jobs > 0) deps.log.info(out, "campaign refresh finished");
  return out;
}

/** A finished job with pull requests of which some are still open (or never refreshed). */
export function isOpenCampaign(job: Job): boolean {
  if (!job.createPullRequests || !job.finishedAt || (job.totals?.prsOpened ?? 0) === 0) return false;
  return !job.campaign || job.campaign.open > 0 || job.campaign.prs === 0;
}

/**
 * One GitHub client per repository owner (an App installation is per owner), built on first use
 * from the config; for the tracker and the bulk actions.
 */
export function octokitPerOwner(config: Pick<Config, "github">, log?: Logger, opts: Omit<GitHubOptions, "repository" | "log"> = {}): (repository: string) => GitHubClient {
  const clients = new Map<string, GitHubClient>();
  return (repository) => {
    const owner = (repository.split("/")[0] ?? "").toLowerCase();
    let c = clients.get(owner);
    if (!c) {
      c = newGitHub(config, { ...opts, repository, ...(log ? { log } : {}) }).octokit;
      clients.set(owner, c);
    }
    return c;
  };
}

/** True when two burndowns count the same (their refresh times aside). */
export function sameBurndown(a: CampaignSummary | undefined, b: CampaignSummary | undefined): boolean {
  const strip = (s: CampaignSummary | undefined) => (s ? JSON.stringify({ ...s, refreshedAt: undefined }) : "");
  return strip(a) === strip(b);
}
