/**
 * What a job's page shows, as plain data: the JSON form (`/jobs/<token>.json`) is exactly this,
 * and the HTML is rendered from it. Every text that came from people, repositories or the model
 * is redacted as Slack messages are (known secret values and token shapes, core/runtime/log.ts). Pure.
 */
import { foldHistory, type CountSnapshot } from "../../core/jobs/index.ts";
import { finishedCount, isTerminalJob, type CampaignSummary, type Counters, type Job, type RepoRow } from "../../core/jobs/index.ts";
import { redact } from "../../core/runtime/index.ts";

/** One repository as the page shows it. */
export type RepoView = {
  name: string;
  status: string;
  reason?: string;
  summary?: string;
  files?: number;
  additions?: number;
  deletions?: number;
  pr?: { url?: string; number?: number; state: string; checks: string; review: string; conflicting: boolean; failingChecks: string[] };
  tokens?: number;
  costUsd?: number;
  updatedAt?: string;
  hasDiff: boolean;
  hasConversation: boolean;
};

/**
 * The page's data. `version` is read from the job row alone ({@link jobVersion}), so a poll that
 * finds nothing new costs one GetItem and no read of the rows.
 */
export type PageModel = {
  version: string;
  asOf: string;
  live: boolean;
  job: {
    jobId: string;
    name: string;
    type: Job["type"];
    instructions?: string;
    verify?: string;
    baseBranch?: string;
    createdBy: string;
    createdAt: string;
    finishedAt?: string;
    status: Job["status"];
    cancelledBy?: string;
    createPullRequests: boolean;
    counters: Counters & { running: number };
    prsOpened?: number;
    tokensIn?: number;
    tokensOut?: number;
    costUsd?: number;
    campaign?: CampaignSummary;
  };
  history: CountSnapshot[];
  repositories: RepoView[];
};

/** The model of `job` and its rows as of `now`; `secrets` are redacted from every text. */
export function pageModel(job: Job, rows: readonly RepoRow[], now: Date, secrets: readonly string[]): PageModel {
  const r = (s: string | undefined) => (s === undefined ? undefined : redact(s, secrets));
  const c = job.counters;
  const t = job.totals;
  const campaign = job.campaign;
  const live = isLive(job);
  const tokensIn = t ? t.inputTokens + t.cacheReadTokens + t.cacheWriteTokens : 0;
  const repositories = rows.map((row): RepoView => {
    const reason = r(row.error);
    const summary = r(row.summary);
    const pr = row.pr;
    const usage = row.usage;
    return {
      name: row.repositoryName,
      status: row.status,
      ...(reason ? { reason } : {}),
      ...(summary ? { summary } : {}),
      ...(row.diffStats ? { files: row.diffStats.files, additions: row.diffStats.additions, deletions: row.diffStats.deletions } : {}),
      ...(row.prUrl || pr
        ? {
            pr: {
              ...(row.prUrl ? { url: row.prUrl } : {}),
              ...(pr?.number ?? row.prNumber ? { number: pr?.number ?? row.prNumber } : {}),
              state: pr?.state ?? "open",
              checks: pr?.checks ?? "unknown",
              review: pr?.review ?? "unknown",
              conflicting: pr?.conflicting ?? false,
              failingChecks: (pr?.failingChecks ?? []).map((n) => redact(n, secrets)),
            },
          }
        : {}),
      ...(usage ? { tokens: usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens } : {}),
      ...(row.costUsd !== undefined ? { costUsd: row.costUsd } : {}),
      ...(lastUpdate(row) ? { updatedAt: lastUpdate(row) } : {}),
      hasDiff: Boolean(row.diffKey),
      hasConversation: Boolean(row.transcriptKey),
    };
  });
  return {
    version: jobVersion(job),
    asOf: now.toISOString(),
    live,
    job: {
      jobId: job.jobId,
      name: r(job.name)!,
      type: job.type,
      ...(job.type === "script" ? (job.script ? { instructions: r(job.script) } : {}) : job.prompt ? { instructions: r(job.prompt) } : {}),
      ...(job.verify ? { verify: r(job.verify) } : {}),
      ...(job.baseBranch ? { baseBranch: r(job.baseBranch) } : {}),
      createdBy: r(job.createdBy)!,
      createdAt: job.createdAt,
      ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
      status: job.status,
      ...(job.cancelledBy ? { cancelledBy: r(job.cancelledBy) } : {}),
      createPullRequests: job.createPullRequests,
      counters: { ...c, running: Math.max(0, c.total - finishedCount(c)) },
      ...(t && job.createPullRequests ? { prsOpened: t.prsOpened } : {}),
      ...(t && tokensIn + t.outputTokens > 0 ? { tokensIn, tokensOut: t.outputTokens, costUsd: t.costMicroUsd / 1e6 } : {}),
      ...(campaign ? { campaign } : {}),
    },
    history: withCurrent(foldHistory(job.history, job.createdAt), job, now),
    repositories,
  };
}

/** True while the page should poll: the job runs, or some of its PRs are open. */
export function isLive(job: Pick<Job, "status" | "campaign">): boolean {
  return !isTerminalJob(job.status) || (job.campaign?.open ?? 0) > 0;
}

/**
 * What the poller compares: it changes with every count, status change, cancel and PR refresh
 * (each writes the job row). Moves of a running repository between its live steps do not touch
 * the job row; the page shows them at the next count.
 */
export function jobVersion(job: Pick<Job, "updatedAt" | "status" | "counters" | "campaign" | "history">): string {
  return [job.updatedAt, job.status, finishedCount(job.counters), job.campaign?.refreshedAt ?? "", job.history?.length ?? 0].join("|");
}

/** The history ending at the job's current counts (a job older than the history has only those). */
function withCurrent(history: CountSnapshot[], job: Job, now: Date): CountSnapshot[] {
  const c = job.counters;
  const p = job.campaign;
  const cur = { completed: c.completed, noChanges: c.noChanges, failed: c.failed, cancelled: c.cancelled, open: p?.open ?? 0, merged: p?.merged ?? 0, closed: p?.closed ?? 0 };
  const last = history.at(-1);
  const same = last && (Object.keys(cur) as (keyof typeof cur)[]).every((k) => last[k] === cur[k]);
  if (same) return history;
  const t = [job.updatedAt, p?.refreshedAt, last?.t].filter((x): x is string => Boolean(x)).sort().at(-1) ?? now.toISOString();
  return [...history, { t, ...cur }];
}

function lastUpdate(row: RepoRow): string | undefined {
  return [row.finishedAt, row.heartbeatAt, row.startedAt, row.pr?.refreshedAt].filter((x): x is string => Boolean(x)).sort().at(-1);
}
