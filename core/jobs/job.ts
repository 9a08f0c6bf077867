/**
 * The job model: types, the two status state machines, counters and the campaign burndown
 * (job-request.ts validates what a person asks for). Pure: no I/O. Everything that crosses a
 * boundary (store rows, CLI input, modal input) is described here or there once.
 */

/** Job types: `code-pattern-update` drives Claude, `script` runs a shell script. */
export type JobType = "code-pattern-update" | "script";

export const JOB_STATUSES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const REPO_STATUSES = [
  "PENDING",
  "CLONING",
  "RUNNING",
  "PUSHING",
  "COMPLETED",
  "NO_CHANGES",
  "FAILED",
  "CANCELLED",
] as const;
export type RepoStatus = (typeof REPO_STATUSES)[number];

/** Legal job transitions. A terminal status has no way out. */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  PENDING: ["RUNNING", "COMPLETED", "FAILED", "CANCELLED"],
  RUNNING: ["COMPLETED", "FAILED", "CANCELLED"],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

/**
 * Legal repository transitions. FAILED and CANCELLED are reachable from every live status
 * (a crash, a timeout or a cancel can happen at any step); terminal statuses never move except
 * through an explicit retry, which is not a transition but a reset done by the store.
 */
export const REPO_TRANSITIONS: Readonly<Record<RepoStatus, readonly RepoStatus[]>> = {
  PENDING: ["CLONING", "FAILED", "CANCELLED"],
  CLONING: ["RUNNING", "NO_CHANGES", "FAILED", "CANCELLED"],
  RUNNING: ["PUSHING", "COMPLETED", "NO_CHANGES", "FAILED", "CANCELLED"],
  PUSHING: ["COMPLETED", "NO_CHANGES", "FAILED", "CANCELLED"],
  COMPLETED: [],
  NO_CHANGES: [],
  FAILED: [],
  CANCELLED: [],
};

/** True when `from → to` is a legal job transition. */
export function canMoveJob(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

/** True when `from → to` is a legal repository transition. */
export function canMoveRepo(from: RepoStatus, to: RepoStatus): boolean {
  return REPO_TRANSITIONS[from].includes(to);
}

/** Repository statuses from which a runner may still be working. */
export const LIVE_REPO_STATUSES: readonly RepoStatus[] = ["CLONING", "RUNNING", "PUSHING"];

/** True for COMPLETED, NO_CHANGES, FAILED, CANCELLED. */
export function isTerminalRepo(status: RepoStatus): boolean {
  return REPO_TRANSITIONS[status].length === 0;
}

/** True for COMPLETED, FAILED, CANCELLED. */
export function isTerminalJob(status: JobStatus): boolean {
  return JOB_TRANSITIONS[status].length === 0;
}

export type Counters = {
  total: number;
  completed: number;
  noChanges: number;
  failed: number;
  cancelled: number;
};

/** The counter a terminal repository status adds one to. */
export function counterFor(status: RepoStatus): keyof Omit<Counters, "total"> {
  switch (status) {
    case "COMPLETED":
      return "completed";
    case "NO_CHANGES":
      return "noChanges";
    case "FAILED":
      return "failed";
    case "CANCELLED":
      return "cancelled";
    default:
      throw new Error(`no counter for live status ${status}`);
  }
}

/** How many repositories have ended. */
export function finishedCount(c: Counters): number {
  return c.completed + c.noChanges + c.failed + c.cancelled;
}

/**
 * The status a job ends with once every repository has ended: CANCELLED when it was cancelled,
 * FAILED when at least one repository failed, else COMPLETED.
 */
export function finalJobStatus(c: Counters, wasCancelled: boolean): JobStatus {
  if (wasCancelled) return "CANCELLED";
  return c.failed > 0 ? "FAILED" : "COMPLETED";
}

export type JobTotals = {
  prsOpened: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicroUsd: number;
};

export type DiffStats = { files: number; additions: number; deletions: number };

export type Usage = {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
};

/** Where a job's Slack thread lives, when it was started from Slack. */
export type SlackThread = { teamId: string; channel: string; threadTs?: string };

/** Pull request options of a job. */
export type PullRequestOptions = {
  draft: boolean;
  labels: string[];
  reviewers: string[];
  teamReviewers: string[];
  assignees: string[];
  /** Minimum seconds between two PR creations of this job (spreads CI load). */
  minIntervalSeconds: number;
  /** PR title instead of the job name; `{{name}}`, `{{jobId}}`, `{{repository}}` are filled in. */
  title?: string;
  /** PR body template (Markdown); `{{details}}` is the generated description (instructions, summary, changes, verify). */
  bodyTemplate?: string;
  /** Also request reviews from the CODEOWNERS owners of the changed files (users and `@org/team`s). */
  reviewersFromCodeOwners?: boolean;
};

/** A job row as stored. */
export type Job = {
  jobId: string;
  name: string;
  type: JobType;
  prompt?: string;
  script?: string;
  verify?: string;
  repositories: string[];
  createPullRequests: boolean;
  pullRequest?: PullRequestOptions;
  baseBranch?: string;
  /** Commit message instead of the job name (its first line is the subject); placeholders as the PR title. */
  commitMessage?: string;
  createdBy: string;
  slack?: SlackThread;
  batchJobId?: string;
  counters: Counters;
  /** Sums over the finished repositories: pull requests, Claude tokens and cost (micro-dollars, to stay whole). */
  totals?: JobTotals;
  /** Indexes of the repositories already added to `counters` (keeps counting idempotent). */
  countedIndexes?: Set<number>;
  status: JobStatus;
  cancelledBy?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** The campaign burndown as of the last PR refresh (core/github/pr-tracking.ts). */
  campaign?: CampaignSummary;
  /** The branch every repository pushes, lasting across jobs (`--branch`); absent → `cody/<jobId>`. */
  branch?: string;
  /** What a push does when others pushed to the branch (default keep). */
  onConflict?: OnConflict;
  /** Merge green also merges open PRs on which no check ran (`--allow-no-checks`). */
  allowNoChecks?: boolean;
  /** The bulk actions taken on the job after its pull requests (newest last, at most 20 kept). */
  actions?: CampaignActionRecord[];
  /** Change quality (issue 19): the scope judge (absent: on for Claude jobs, off for scripts). */
  judge?: boolean;
  /** The job's hard cost cap in US dollars; absent: no cap. */
  budgetUsd?: number;
  /** Model spend so far in micro-dollars: one atomic counter raised after every model response. */
  spendMicroUsd?: number;
  /** Healing attempts per pull request with failing checks (`--heal N`); absent or 0: only on request. */
  heal?: number;
  /** Check failures found on many of the job's PRs at once, reported once and not healed. */
  systematic?: SystematicFailure[];
  /** Points of the count history, for the web page's chart (core/count-history.ts). */
  history?: CountPoint[];
  expiresAt: number;
};

/** A check that fails with the same first error line on at least 30 % (and 3) of a job's PRs. */
export type SystematicFailure = { check: string; firstLine: string; repositories: string[]; reportedAt: string };

/** The scope judge's last verdict on a repository's change. */
export type ScopeCheck = { decision: "approve" | "veto"; reason: string; requests: number };

/** One healing attempt on a repository's pull request. */
export type HealAttempt = { at: string; checks: string[]; outcome: "pushed" | "failed" | "no_changes"; reason?: string; commitSha?: string };

/** True when the job's changes go through the scope judge: as set, else on for Claude jobs only. */
export function isJudged(job: Pick<Job, "judge" | "type">): boolean {
  return job.judge ?? job.type === "code-pattern-update";
}

/** A repository row as stored. */
export type RepoRow = {
  jobId: string;
  repositoryName: string;
  index: number;
  status: RepoStatus;
  attempt: number;
  /** The step this attempt is at (clone, change, verify, commit, push, pull_request, report). */
  step?: string;
  /** The step the previous attempt had reached when this one claimed the row. */
  lastStep?: string;
  startedAt?: string;
  finishedAt?: string;
  heartbeatAt?: string;
  branch?: string;
  commitSha?: string;
  diffKey?: string;
  diffStats?: DiffStats;
  transcriptKey?: string;
  summary?: string;
  prUrl?: string;
  prNumber?: number;
  error?: string;
  usage?: Usage;
  costUsd?: number;
  /** Set when the job was cancelled while this repository ran: it may no longer start pushing. */
  cancelRequested?: boolean;
  /** The pull request's tracked state (core/github/pr-tracking.ts); absent before the first refresh. */
  pr?: PullRequestStatus;
  /** The commit Cody last pushed to the branch (its own tip; see runner/branch-head.ts). */
  pushedSha?: string;
  /** Commits by others the last push kept on the branch (rebased onto Cody's change). */
  editedByOthers?: number;
  /** Set by `cody publish`: the next attempt applies the stored diff instead of running the change. */
  replayDiff?: boolean;
  /** The scope judge's verdict (issue 19). */
  scopeCheck?: ScopeCheck;
  /** Set by `cody heal`: the next attempt heals the PR's failing checks with this context. */
  healContext?: string;
  /** Healing attempts made on this repository's pull request, oldest first. */
  heals?: HealAttempt[];
  /** Milliseconds per runner step of the attempt that ended the row (runner/step-timings.ts), `total` included. */
  timings?: Record<string, number>;
  expiresAt: number;
};

/** A pull request's lifecycle state as Cody Batch tracks it. */
export type PrState = "open" | "merged" | "closed" | "draft";
/** The combined state of the head commit's check runs and commit statuses; `none` when no check ran at all (not passing). */
export type CheckState = "pending" | "passing" | "failing" | "none";
/** GitHub's review decision, derived from the latest review of each reviewer. */
export type ReviewDecision = "approved" | "changes_requested" | "review_required";

/** ETag and the value it stood for, so a 304 answer can reuse the value (conditional requests). */
export type CachedPart<T> = { etag: string; value: T };

/** What the tracker keeps on a repository row about its pull request. */
export type PullRequestStatus = {
  number: number;
  state: PrState;
  /** False when GitHub reports a conflict with the base; undefined while GitHub still computes it. */
  mergeable?: boolean;
  conflicting: boolean;
  /** GitHub's `mergeable_state` (clean, dirty, behind, blocked, unstable, unknown, draft, has_hooks). */
  mergeableState?: string;
  checks: CheckState;
  /** Names of failing check runs and commit-status contexts (at most 20). */
  failingChecks: string[];
  review: ReviewDecision;
  headSha: string;
  baseRef: string;
  refreshedAt: string;
  /** ETags of the last answers (pull, check runs, combined status, reviews) with what they meant. */
  cache?: {
    pull?: CachedPart<Omit<PullRequestStatus, "checks" | "failingChecks" | "review" | "refreshedAt" | "cache">>;
    checkRuns?: CachedPart<{ sha: string; checks: CheckState; failing: string[] }>;
    status?: CachedPart<{ sha: string; checks: CheckState; failing: string[] }>;
    reviews?: CachedPart<ReviewDecision>;
  };
};

/** The campaign burndown of a job: how its pull requests stand. */
export type CampaignSummary = {
  /** Repositories with a pull request. */
  prs: number;
  merged: number;
  closed: number;
  open: number;
  /** Open PRs by checks and review (an open PR counts in one of passing/failing/pending). */
  passing: number;
  failing: number;
  pending: number;
  /** Open PRs on whose head no check run and no commit status exists (absent in older summaries). */
  noChecks?: number;
  /** Open PRs whose branch holds commits by others (people pushed to Cody's branch). */
  editedByOthers?: number;
  /** Open PRs that are not approved yet. */
  awaitingReview: number;
  approved: number;
  conflicting: number;
  refreshedAt?: string;
  /** The first open PRs with failing checks (at most {@link FAILING_PRS_KEPT}; `failing` has the count). */
  failingPrs?: Array<{ repository: string; number?: number; url?: string; checks: string[] }>;
};

/** Failing PRs a campaign summary names (the burndown line lists a few, then "and N more"). */
export const FAILING_PRS_KEPT = 5;

/** One bulk action as recorded on the job: who, when, what, and how each repository came out. */
export type CampaignActionRecord = {
  action: CampaignAction;
  by: string;
  at: string;
  /** Counts per result kind, e.g. { merged: 12, skipped: 3, failed: 1 }. */
  counts: Record<string, number>;
  /** Up to 50 per-repository results (the thread reply carries the rest of the story). */
  results: { repository: string; kind: string; reason?: string }[];
};

export type CampaignAction = "publish" | "retry" | "update" | "merge" | "close" | "refresh" | "heal";

/**
 * The burndown over a job's repository rows: merged / closed / open (passing, failing, pending;
 * approved or awaiting review; conflicting). Rows without a pull request are left out. Pure.
 */
export function campaignSummary(rows: readonly (Pick<RepoRow, "prUrl" | "pr" | "pushedSha" | "editedByOthers"> & Partial<Pick<RepoRow, "repositoryName">>)[], refreshedAt?: string): CampaignSummary {
  const s: CampaignSummary = { prs: 0, merged: 0, closed: 0, open: 0, passing: 0, failing: 0, pending: 0, awaitingReview: 0, approved: 0, conflicting: 0 };
  for (const r of rows) {
    if (!r.prUrl && !r.pr) continue;
    s.prs += 1;
    const pr = r.pr;
    if (pr?.state === "merged") s.merged += 1;
    else if (pr?.state === "closed") s.closed += 1;
    else {
      s.open += 1;
      const checks = pr?.checks ?? "pending";
      if (checks === "none") s.noChecks = (s.noChecks ?? 0) + 1;
      else s[checks] += 1;
      if (editedByOthers(r)) s.editedByOthers = (s.editedByOthers ?? 0) + 1;
      if (checks === "failing" && r.repositoryName && (s.failingPrs ??= []).length < FAILING_PRS_KEPT) {
        s.failingPrs.push({ repository: r.repositoryName, ...(pr?.number ? { number: pr.number } : {}), ...(r.prUrl ? { url: r.prUrl } : {}), checks: pr?.failingChecks ?? [] });
      }
      if (pr?.review === "approved") s.approved += 1;
      else s.awaitingReview += 1;
      if (pr?.conflicting) s.conflicting += 1;
    }
  }
  if (refreshedAt) s.refreshedAt = refreshedAt;
  return s;
}

/** True when a campaign has pull requests and every one is merged or closed ("done" for people). */
export function isCampaignDone(s: CampaignSummary | undefined): boolean {
  return s !== undefined && s.prs > 0 && s.open === 0;
}

/**
 * True when the row's branch holds commits by others: the runner kept some when it last pushed
 * (`editedByOthers`), or the PR's head is no longer the commit Cody last pushed (`pushedSha`).
 */
export function editedByOthers(row: Pick<RepoRow, "pr" | "pushedSha" | "editedByOthers">): boolean {
  if ((row.editedByOthers ?? 0) > 0) return true;
  return Boolean(row.pr && row.pushedSha && row.pr.headSha && row.pr.state !== "merged" && row.pr.headSha !== row.pushedSha);
}

/** How a run treats commits others pushed to Cody's branch: keep them (rebase onto), skip the repository, or replace them. */
export type OnConflict = "keep" | "skip" | "replace";

// ── Count history: the points the web page's chart is drawn from (count-history.ts) ──────────

/** What the chart draws: repositories by outcome, and pull requests by state. */
export const HISTORY_KEYS = ["completed", "noChanges", "failed", "cancelled", "open", "merged", "closed"] as const;
export type HistoryKey = (typeof HISTORY_KEYS)[number];

/**
 * One stored point: a change `d` of one count `k`, or absolute values `s` (a PR refresh, or a
 * compacted point that stands for everything before it). `t` is epoch milliseconds: a number is
 * a third of an ISO string's size, and every write of the job row pays for the whole item.
 */
export type CountPoint = { t: number; k?: HistoryKey; d?: number; s?: Partial<Record<HistoryKey, number>> };
