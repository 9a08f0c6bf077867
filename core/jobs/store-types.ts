/**
 * The store port (what the bot, runner and CLI may ask of the store of jobs and rows) and the
 * results of its operations; store.ts implements it over DynamoDB.
 */
import type { RepoRow, RepoStatus, Job } from "./job.ts";
import type { CampaignStore } from "./store-campaign.ts";

/** Result of trying to claim a repository for a runner attempt. */
export type ClaimResult =
  | { kind: "claimed"; row: RepoRow }
  /** The row is terminal already (another attempt finished it, or it was cancelled). */
  | { kind: "terminal"; row: RepoRow }
  /** Another attempt is alive (fresh heartbeat): leave it alone. */
  | { kind: "busy"; row: RepoRow }
  /** The row does not exist. */
  | { kind: "missing" };

export type ClaimOptions = {
  now: Date;
  /** A live row whose heartbeat is older than this may be taken over. */
  staleBefore: Date;
  /**
   * The caller's attempt number as the launcher counts it (AWS_BATCH_JOB_ATTEMPT, 1-based). AWS
   * Batch (and the local launcher) start attempt N only after attempt N − 1 exited, so a live row
   * whose `attempt` is below N was claimed by a runner that is dead: it may be taken over at once,
   * whatever its heartbeat says.
   */
  launcherAttempt?: number;
};

/** What {@link Store.recordStep} found: whether this attempt still owns the row, and whether a cancel was requested. */
export type StepResult = { owned: boolean; cancelRequested: boolean };

/** Fields a runner may set along with a transition. */
export type RepoFields = Partial<Omit<RepoRow, "jobId" | "repositoryName" | "index" | "status" | "attempt" | "expiresAt">>;

/** The store port, as the bot, runner and CLI use it. */
export type Store = {
  /**
   * Writes all repository rows (BatchWrite, 25 a request, retrying unprocessed items), then the
   * job row, conditional on its absence: a repeated creation returns `exists` with the stored job.
   */
  createJob(job: Job, repos: RepoRow[], signal?: AbortSignal): Promise<{ kind: "created"; job: Job } | { kind: "exists"; job: Job }>;
  getJob(jobId: string, signal?: AbortSignal): Promise<Job | undefined>;
  getRepo(jobId: string, repositoryName: string, signal?: AbortSignal): Promise<RepoRow | undefined>;
  /** Every repository row of a job, in index order. */
  listRepos(jobId: string, signal?: AbortSignal): Promise<RepoRow[]>;
  /** The most recent jobs across statuses (status GSI), newest first, expired ones left out. */
  listJobs(limit: number, signal?: AbortSignal): Promise<Job[]>;
  /**
   * Jobs not finalized yet (PENDING, RUNNING, and CANCELLED ones still winding down), oldest
   * first, up to `limit`, across pages of the status GSI: what the watchdog sweeps.
   */
  listUnfinishedJobs(limit: number, signal?: AbortSignal): Promise<Job[]>;
  /** Sets bookkeeping fields on a job (batch job id, Slack thread; pull-request options when a preview is published). */
  setJobFields(jobId: string, fields: Partial<Pick<Job, "batchJobId" | "slack" | "createPullRequests" | "pullRequest">>, signal?: AbortSignal): Promise<void>;
  /** PENDING → RUNNING; false when the job was not PENDING. */
  markJobRunning(jobId: string, signal?: AbortSignal): Promise<boolean>;
  /** Takes a PENDING row (or a live row with a stale heartbeat) for a new attempt: status CLONING, attempt + 1. */
  claimRepo(jobId: string, repositoryName: string, opts: ClaimOptions, signal?: AbortSignal): Promise<ClaimResult>;
  /**
   * Moves a live row of this attempt from `from` to the live status `to`. With `unlessCancelled`,
   * the move happens only while no cancel was requested on the row (see requestRepoCancel).
   * False when a condition failed.
   */
  moveRepo(
    row: Pick<RepoRow, "jobId" | "repositoryName" | "attempt">,
    from: RepoStatus,
    to: RepoStatus,
    fields: RepoFields,
    signal?: AbortSignal,
    opts?: { unlessCancelled?: boolean },
  ): Promise<boolean>;
  /** Flags a live row as cancelled, so its runner can no longer start pushing; false when it is not live. */
  requestRepoCancel(row: Pick<RepoRow, "jobId" | "repositoryName">, signal?: AbortSignal): Promise<boolean>;
  /**
   * Records the step this attempt is at (and refreshes its heartbeat), so a later attempt or the
   * watchdog can say where a crashed runner stopped. Also tells whether a cancel was requested on
   * the row: one request serves as the runner's cancellation check.
   */
  recordStep(row: Pick<RepoRow, "jobId" | "repositoryName" | "attempt">, step: string, now: Date, signal?: AbortSignal): Promise<StepResult>;
  /** Refreshes a live row's heartbeat; false when this attempt no longer owns the row. */
  heartbeat(row: Pick<RepoRow, "jobId" | "repositoryName" | "attempt">, now: Date, signal?: AbortSignal): Promise<boolean>;
  /**
   * Ends a row: sets the terminal status and fields (conditional: `from` lists the statuses the
   * row may be in; `attempt`, when given, must match), then counts it on the job (countRepo).
   * False when a condition failed (someone else ended it).
   */
  finishRepo(
    row: Pick<RepoRow, "jobId" | "repositoryName" | "index"> & { attempt?: number },
    from: readonly RepoStatus[],
    to: RepoStatus,
    fields: RepoFields,
    signal?: AbortSignal,
  ): Promise<boolean>;
  /**
   * finishRepo that hands back what it wrote, so the caller need not read it again: the row as
   * ended, and the job row as the count left it (`job` undefined when the row was counted
   * already). `{ ended: false }` when a condition failed (someone else ended it).
   */
  finishRepoWithJob(
    row: Pick<RepoRow, "jobId" | "repositoryName" | "index"> & { attempt?: number },
    from: readonly RepoStatus[],
    to: RepoStatus,
    fields: RepoFields,
    signal?: AbortSignal,
  ): Promise<{ ended: false } | { ended: true; repo: RepoRow; job?: Job }>;
  /**
   * Adds a terminal row to the job's counters (and its tokens, cost and PR to the job's totals), once: the job row keeps the set of counted
   * indexes, so a retry after a crash between the row's write and its count never counts twice.
   * (DynamoDB transactions would do both at once, but the embedded DynamoDB has none.)
   * Returns false when it was counted already.
   */
  countRepo(row: Pick<RepoRow, "jobId" | "index" | "status" | "usage" | "prUrl" | "costUsd">, signal?: AbortSignal): Promise<boolean>;
  /**
   * When every repository has ended and the job is not finalized, sets its final status and
   * `finishedAt` (conditional, so exactly one caller wins). Returns the finalized job to the winner.
   * `known`: the job row as a write just returned it (finishRepoWithJob), used instead of reading it.
   */
  finalizeIfDone(jobId: string, now: Date, signal?: AbortSignal, known?: Job): Promise<Job | undefined>;
  /** PENDING/RUNNING → CANCELLED; returns the job after the attempt, or undefined when missing. */
  markJobCancelled(jobId: string, by: string, now: Date, signal?: AbortSignal): Promise<{ kind: "cancelled" | "already_finished"; job: Job } | undefined>;
} & CampaignStore;
