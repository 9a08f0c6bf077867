/**
 * The notifier tells people what happened: a thread root when a job starts, a reply when a
 * repository ends, progress on the root, and a final update. The Slack implementation lives in
 * bot/slack-notifier.ts (core never imports it); the console one here writes plain lines for local runs.
 */
import type { Job, RepoRow, SlackThread } from "./job.ts";
import type { Logger } from "../runtime/index.ts";

/** What a finished repository reports, with links fit for people. */
export type RepoReport = { job: Job; repo: RepoRow; diffUrl?: string; transcriptUrl?: string };

/** The notifier port. Implementations never throw for delivery problems: they log and go on. */
export type Notifier = {
  /** Announces a new job; returns where its thread lives, when there is one. */
  jobCreated(job: Job, signal?: AbortSignal): Promise<SlackThread | undefined>;
  /** Reports a repository that reached a terminal status. */
  repoFinished(report: RepoReport, signal?: AbortSignal): Promise<void>;
  /** Reports the job's progress (callers may call often: implementations coalesce). */
  progress(job: Job, signal?: AbortSignal): Promise<void>;
  /** Reports the job's end; called exactly once per job, by whoever finalized it. */
  jobFinished(job: Job, signal?: AbortSignal): Promise<void>;
};

const EMOJI: Record<string, string> = { COMPLETED: "✅", NO_CHANGES: "➖", FAILED: "❌", CANCELLED: "🚫" };

/** One plain line for a finished repository, e.g. `✅ acme/billing — 4 files, +38 −21`. */
export function repoLine(r: RepoReport): string {
  const { repo } = r;
  const parts = [`${EMOJI[repo.status] ?? "•"} ${repo.repositoryName}`];
  if (repo.status === "NO_CHANGES") parts.push("no change needed");
  if (repo.diffStats) parts.push(`${repo.diffStats.files} file${repo.diffStats.files === 1 ? "" : "s"}, +${repo.diffStats.additions} −${repo.diffStats.deletions}`);
  if (repo.error) parts.push(repo.error);
  if (repo.prUrl) parts.push(repo.prUrl);
  return parts.join(" — ");
}

/** A notifier that logs human lines; for local runs without a Slack token. */
export function newConsoleNotifier(log: Logger): Notifier {
  return {
    async jobCreated(job) {
      log.info({ jobId: job.jobId, repositories: job.repositories.length }, `job ${job.jobId} created: ${job.name}`);
      return undefined;
    },
    async repoFinished(report) {
      log.info({ jobId: report.job.jobId, repo: report.repo.repositoryName, status: report.repo.status }, repoLine(report));
    },
    async progress() {},
    async jobFinished(job) {
      log.info({ jobId: job.jobId, status: job.status, counters: job.counters }, `job ${job.jobId} ${job.status}`);
    },
  };
}
