/**
 * The Slack notifier: the thread root of a job, one reply per finished repository (grouped when
 * several end within the reply window, across runner processes, see reply-window.ts), and root
 * updates coalesced to at most one per interval plus a final one that is always sent.
 *
 * Delivery goes through @slack/web-api's WebClient, which waits out 429 Retry-After and retries
 * 5xx with backoff. The notifier never throws for delivery problems: it logs and goes on, and a
 * reply that could not be posted is released so the next flush (at the latest the job's final
 * one) posts it.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { LogLevel, WebClient, type RetryOptions } from "@slack/web-api";
import { newArtifacts, type Artifacts } from "../core/jobs/index.ts";
import type { Config } from "../core/config/index.ts";
import type { Job, SlackThread } from "../core/jobs/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import type { Notifier, RepoReport } from "../core/jobs/index.ts";
import {
  claimRootUpdate,
  claimRows,
  claimToken,
  markPosted,
  isRootFinal,
  markRootFinal,
  openReplyWindow,
  releaseRows,
  unreportedRows,
  type ReplyTables,
} from "../core/jobs/index.ts";
import { newDynamoClient, newStore, type Store } from "../core/jobs/index.ts";
import { newLinkBuilder, type LinkBuilder } from "./links.ts";
import { dashboardUrlOf } from "./web/page-wiring.ts";
import { replyMessages, type ReplyItem } from "./messages/reply.ts";
import { rootMessage, type SlackMessage } from "./messages/root.ts";
import { sleep } from "../core/runtime/index.ts";

/** The Slack notifier: the Notifier port plus an immediate root refresh (after a cancel). */
export type SlackNotifier = Notifier & {
  /** Updates the job's root message now, whatever the interval; no-op without a thread. */
  refreshRoot(jobId: string, signal?: AbortSignal): Promise<void>;
  /** Posts one message into the job's thread (a campaign action's summary); no-op without a thread. Never throws. */
  postInThread(job: Job, message: { text: string; blocks: unknown[] }, signal?: AbortSignal): Promise<void>;
};

export type SlackNotifierDeps = {
  client: WebClient;
  doc: DynamoDBDocumentClient;
  tables: ReplyTables;
  store: Pick<Store, "getJob">;
  links: LinkBuilder;
  /** The job page's URL for the root message's "Open dashboard" button (bot/web/); none without a public URL. */
  dashboardUrl?: (job: Pick<Job, "jobId" | "expiresAt">) => string;
  log: Logger;
  /** How long a reply window stays open (ms; default 3000). */
  replyWindowMs?: number;
  /** Minimum time between two root updates (ms; default 6000: ≤ 10/min, well under chat.update's Tier 3). */
  rootIntervalMs?: number;
  /** After how long a claim on rows nobody marked posted may be taken over (ms; default 120000). */
  claimLeaseMs?: number;
  now?: () => Date;
};

/** Errors that mean "Slack will not take these blocks" (a limit or a shape): a plain text root still works. */
const REFUSED_BLOCKS = new Set(["invalid_blocks", "invalid_blocks_format", "too_many_blocks", "msg_blocks_too_long"]);

/** Errors that mean "the bot cannot post in this channel". */
const NOT_POSTABLE = new Set(["not_in_channel", "channel_not_found", "is_archived", "restricted_action"]);

/** Builds the Slack notifier over its dependencies. */
export function newSlackNotifier(deps: SlackNotifierDeps): SlackNotifier {
  const replyWindowMs = deps.replyWindowMs ?? 3000;
  const rootIntervalMs = deps.rootIntervalMs ?? 6000;
  const claimLeaseMs = deps.claimLeaseMs ?? 120_000;
  const now = deps.now ?? (() => new Date());
  const { client, doc, tables } = deps;

  const dashboardOf = (job: Job) => (deps.dashboardUrl ? { dashboardUrl: deps.dashboardUrl(job) } : {});

  async function updateRoot(job: Job, signal?: AbortSignal): Promise<void> {
    if (!job.slack?.threadTs) return;
    const msg = rootMessage(job, now(), dashboardOf(job));
    const { channel, threadTs: ts } = job.slack;
    await plainOnRefusal(job, msg, (content) => client.chat.update({ channel, ts, ...content }));
    signal?.throwIfAborted();
  }

  /**
   * Sends with blocks; when Slack refuses them (`invalid_blocks`: a limit we did not foresee),
   * sends the same message as plain (escaped) text instead, so the thread and its updates go on.
   */
  async function plainOnRefusal<T>(job: Job, msg: SlackMessage, send: (content: { text: string; blocks?: never }) => Promise<T>): Promise<T> {
    try {
      return await send({ text: msg.text, blocks: msg.blocks as never });
    } catch (err) {
      if (!REFUSED_BLOCKS.has(slackErrorCode(err) ?? "")) throw err;
      deps.log.warn({ err: describe(err), jobId: job.jobId }, "Slack refused a message's blocks; sending it as plain text");
      return send({ text: plainText(msg.blocks) });
    }
  }

  /** Posts every terminal, unreported repository of the job as grouped replies. */
  async function flush(job: Job, signal?: AbortSignal): Promise<number> {
    const thread = job.slack;
    if (!thread?.threadTs) return 0;
    const nowMs = now().getTime();
    const token = claimToken(nowMs);
    const rows = await claimRows(doc, tables, await unreportedRows(doc, tables, job.jobId, signal, nowMs - claimLeaseMs), token, signal);
    if (rows.length === 0) return 0;
    const items: ReplyItem[] = await Promise.all(
      rows.map(async (repo) => ({
        repo,
        diffUrl: repo.diffKey && repo.status !== "NO_CHANGES" ? await linkOrNothing(job, repo.diffKey) : undefined,
        transcriptUrl: repo.transcriptKey ? await linkOrNothing(job, repo.transcriptKey) : undefined,
      })),
    );
    const messages = replyMessages(items);
    let posted = 0;
    for (const [i, msg] of messages.entries()) {
      try {
        await plainOnRefusal(job, msg, (content) =>
          client.chat.postMessage({ channel: thread.channel, thread_ts: thread.threadTs, ...content, unfurl_links: false, unfurl_media: false }),
        );
        const chunk = rows.slice(posted, posted + msg.blocks.length);
        posted += msg.blocks.length;
        await markPosted(doc, tables, chunk, token, now().getTime()).catch((e: unknown) =>
          deps.log.warn({ err: describe(e), jobId: job.jobId }, "marking replies posted failed"),
        );
      } catch (err) {
        // Give back what was not posted so a later flush reports it; no row is lost.
        const rest = rows.slice(posted);
        deps.log.error({ err: describe(err), jobId: job.jobId, unposted: rest.length, chunk: i }, "posting repository replies failed");
        await releaseRows(doc, tables, rest, token).catch((e: unknown) => deps.log.error({ err: describe(e) }, "releasing replies failed"));
        break;
      }
    }
    return posted;
  }

  async function linkOrNothing(job: Job, key: string): Promise<string | undefined> {
    try {
      return await deps.links(job, key);
    } catch (err) {
      deps.log.warn({ err: describe(err), jobId: job.jobId }, "building a link failed");
      return undefined;
    }
  }

  async function progress(job: Job, signal?: AbortSignal): Promise<void> {
    if (!job.slack?.threadTs) return;
    try {
      if (rootIsCurrent(job, now().getTime(), rootIntervalMs)) return;
      if (!(await claimRootUpdate(doc, tables, job.jobId, now().getTime(), rootIntervalMs, signal))) return;
      const fresh = await deps.store.getJob(job.jobId, signal);
      if (!fresh || fresh.finishedAt) return; // the final update is jobFinished's
      await updateRoot(fresh, signal);
      // A final update may have gone out while ours was in flight: make sure it stays last.
      if (await isRootFinal(doc, tables, job.jobId, signal)) {
        const final = await deps.store.getJob(job.jobId, signal);
        if (final) await updateRoot(final, signal);
      }
    } catch (err) {
      deps.log.warn({ err: describe(err), jobId: job.jobId }, "root update failed");
    }
  }

  return {
    async jobCreated(job, signal): Promise<SlackThread | undefined> {
      if (!job.slack) return undefined;
      const msg = rootMessage(job, now(), dashboardOf(job));
      const post = (channel: string) =>
        plainOnRefusal(job, msg, (content) => client.chat.postMessage({ channel, ...content, unfurl_links: false }));
      let why: string;
      try {
        const r = await post(job.slack.channel);
        return { teamId: job.slack.teamId, channel: r.channel ?? job.slack.channel, threadTs: r.ts! };
      } catch (err) {
        const code = slackErrorCode(err);
        // Slack unreachable (no platform error): a direct message would fail the same way.
        if (!code) {
          deps.log.error({ err: describe(err), jobId: job.jobId }, "posting the thread root failed");
          return undefined;
        }
        why = NOT_POSTABLE.has(code)
          ? `I can't post in <#${job.slack.channel}>, so job \`${job.jobId}\` reports here instead. ` +
            "To get future jobs in that channel, invite me there: type `/invite @Cody Batch` in the channel."
          : `Slack refused job \`${job.jobId}\`'s message in <#${job.slack.channel}> (\`${code}\`), so the job reports here instead.`;
        if (!NOT_POSTABLE.has(code)) deps.log.error({ err: describe(err), jobId: job.jobId }, "posting the thread root failed; following the job in a DM");
      }
      signal?.throwIfAborted();
      // Tell the person why, and follow the job in a DM.
      try {
        await client.chat.postMessage({ channel: job.createdBy, text: why });
        const r = await post(job.createdBy);
        return { teamId: job.slack.teamId, channel: r.channel ?? job.createdBy, threadTs: r.ts! };
      } catch (err) {
        deps.log.error({ err: describe(err), jobId: job.jobId }, "posting the thread root in a DM failed");
        return undefined;
      }
    },

    async repoFinished(report: RepoReport, signal) {
      const job = report.job;
      if (!job.slack?.threadTs) return;
      try {
        // A window the job row shows open will flush this row too: skip the conditional write.
      if (windowIsOpen(job, now().getTime())) return;
      if (!(await openReplyWindow(doc, tables, job.jobId, now().getTime(), replyWindowMs, signal))) return;
        await sleep(replyWindowMs, signal);
        await flush(job, signal);
      } catch (err) {
        deps.log.warn({ err: describe(err), jobId: job.jobId }, "repository reply failed; the job's final flush will post it");
        return;
      }
      await progress(job, signal);
    },

    progress,

    async jobFinished(job, signal) {
      if (!job.slack?.threadTs) return;
      try {
        await flush(job, signal);
      } catch (err) {
        deps.log.error({ err: describe(err), jobId: job.jobId }, "final flush of repository replies failed");
      }
      try {
        await markRootFinal(doc, tables, job.jobId, now().getTime(), signal);
        const fresh = (await deps.store.getJob(job.jobId, signal)) ?? job;
        await updateRoot(fresh, signal);
      } catch (err) {
        deps.log.error({ err: describe(err), jobId: job.jobId }, "final root update failed");
      }
    },

    async postInThread(job, message, signal) {
      if (!job.slack?.threadTs) return;
      try {
        await client.chat.postMessage({ channel: job.slack.channel, thread_ts: job.slack.threadTs, text: message.text, blocks: message.blocks as never, unfurl_links: false, unfurl_media: false });
        signal?.throwIfAborted();
      } catch (err) {
        deps.log.warn({ err: describe(err), jobId: job.jobId }, "posting into the thread failed");
      }
    },

    async refreshRoot(jobId, signal) {
      try {
        const job = await deps.store.getJob(jobId, signal);
        if (job) await updateRoot(job, signal);
      } catch (err) {
        deps.log.warn({ err: describe(err), jobId }, "root refresh failed");
      }
    },
  };
}

/**
 * The coordination attributes reply-window.ts keeps on the job row. They only move forward, so
 * any copy of the row (e.g. the one a runner's count just returned) can rule a write out early.
 */
type Coordination = { replyWindowUntil?: number; rootUpdatedAt?: number; rootFinal?: boolean };

/** True when the job row shows a reply window still open at `nowMs` (openReplyWindow would fail). */
function windowIsOpen(job: Job, nowMs: number): boolean {
  const until = (job as Job & Coordination).replyWindowUntil;
  return typeof until === "number" && until >= nowMs;
}

/** True when the job row shows a root update within `intervalMs` or the final one (claimRootUpdate would fail). */
function rootIsCurrent(job: Job, nowMs: number, intervalMs: number): boolean {
  const c = job as Job & Coordination;
  return c.rootFinal === true || (typeof c.rootUpdatedAt === "number" && c.rootUpdatedAt > nowMs - intervalMs);
}

/** The (already escaped) section texts of `blocks`, one per line, within Slack's text limit. */
function plainText(blocks: readonly Record<string, unknown>[]): string {
  const text = blocks.map((b) => (b as { text?: { text?: string } }).text?.text ?? "").filter(Boolean).join("\n");
  return text.length <= 39_000 ? text : `${text.slice(0, 38_999)}…`;
}

/** Retries for Slack calls: 429s wait their Retry-After (WebClient), other failures back off. */
export const SLACK_RETRY: RetryOptions = { retries: 8, factor: 2, minTimeout: 500, maxTimeout: 30_000, randomize: true };

/** A WebClient for the config's bot token and `SLACK_API_URL` (must end in `/api/`). */
export function newSlackClient(config: Pick<Config, "slack">, opts: { retryConfig?: RetryOptions; timeoutMs?: number } = {}): WebClient {
  return new WebClient(config.slack.botToken, {
    ...(config.slack.apiUrl ? { slackApiUrl: slackApiUrl(config.slack.apiUrl) } : {}),
    retryConfig: opts.retryConfig ?? SLACK_RETRY,
    timeout: opts.timeoutMs ?? 30_000,
    logLevel: LogLevel.ERROR,
  });
}

/** `SLACK_API_URL` as the WebClient wants it: ending in `/api/`. */
export function slackApiUrl(url: string): string {
  const u = url.replace(/\/+$/, "");
  return u.endsWith("/api") ? `${u}/` : `${u}/api/`;
}

/**
 * The Slack notifier of a config, as the runner and the bot use it: WebClient from the bot token
 * and `SLACK_API_URL`, DynamoDB from the config, links through `BOT_PUBLIC_URL` when set.
 */
export function newSlackNotifierFromConfig(
  config: Config,
  log: Logger,
  opts: { client?: WebClient; artifacts?: Artifacts; store?: Pick<Store, "getJob">; dynamo?: DynamoDBClient; replyWindowMs?: number } = {},
): SlackNotifier {
  const dynamo = opts.dynamo ?? newDynamoClient(config);
  const dashboard = dashboardUrlOf(config);
  return newSlackNotifier({
    client: opts.client ?? newSlackClient(config),
    doc: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    tables: { jobsTable: config.jobsTable, reposTable: config.reposTable },
    store: opts.store ?? newStore(config, dynamo),
    links: newLinkBuilder({
      publicUrl: config.botPublicUrl,
      signingSecret: config.linkSecret,
      artifacts: opts.artifacts ?? newArtifacts(config),
    }),
    ...(dashboard ? { dashboardUrl: dashboard } : {}),
    log,
    ...(opts.replyWindowMs !== undefined ? { replyWindowMs: opts.replyWindowMs } : {}),
  });
}

/** The `error` of a Slack platform error (`not_in_channel`, …), else undefined. */
export function slackErrorCode(err: unknown): string | undefined {
  const e = err as { code?: string; data?: { error?: string } };
  return e?.code === "slack_webapi_platform_error" ? e.data?.error : undefined;
}

/** A loggable description of an error without request bodies or headers (tokens live there). */
function describe(err: unknown): { message: string; code?: string } {
  const e = err as { message?: string; code?: string };
  return { message: String(e?.message ?? err), ...(e?.code ? { code: e.code } : {}) };
}

