/**
 * The bot's AWS entry: a Lambda behind an API Gateway HTTP API. One handler serves
 * - `{ codyTask }` events: work deferred by a listener, run in an asynchronous self-invocation;
 * - EventBridge scheduled events (`source: "aws.events"`): one watchdog pass (core/launch/watchdog.ts);
 * - `GET /health` and `GET /links/<token>` (stable artifact links);
 * - `GET /jobs/<token>[.json]` and `GET /jobs/assets/<file>`: the job pages (bot/web/serve-page.ts);
 * - everything else through Bolt's AwsLambdaReceiver (signature verification on), which answers
 *   only after the listener ends: listeners acknowledge and hand slow work to `deferred`.
 */
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { AWS_HTTP_TIMEOUTS } from "../core/jobs/index.ts";
import { AwsLambdaReceiver } from "@slack/bolt";
import type { AwsEvent, AwsResponse } from "@slack/bolt/dist/receivers/AwsLambdaReceiver.js";
import type { Artifacts } from "../core/jobs/index.ts";
import { newArtifacts } from "../core/jobs/index.ts";
import { loadConfig, secretValues, type Config } from "../core/config/index.ts";
import type { Launcher } from "../core/launch/index.ts";
import { newLogger, type Logger } from "../core/runtime/index.ts";
import type { Notifier } from "../core/jobs/index.ts";
import { resolveSecrets } from "../core/secrets/index.ts";
import { newStore } from "../core/jobs/index.ts";
import { runWatchdog, type WatchdogSettings } from "../core/launch/index.ts";
import { newBoltApp, type BotDeps, type GitHubWebhookHandler } from "./app.ts";
import { runDeferredTask, type DeferredTask } from "./jobs.ts";
import { serveLink } from "./links.ts";
import { pageDepsOf } from "./web/page-wiring.ts";
import { servePage, type PageDeps } from "./web/serve-page.ts";
import { githubWebhookOf, linkKeyOf, newBotDeps } from "./wiring.ts";

/** The internal event of an asynchronous self-invocation. */
export type TaskEvent = { codyTask: DeferredTask };
/** The event an EventBridge schedule rule sends (terraform/bot.ts runs the watchdog every few minutes). */
export type ScheduledEvent = { source: "aws.events"; "detail-type": string; time?: string };
export type LambdaEvent = AwsEvent | TaskEvent | ScheduledEvent;
export type LambdaHandler = (event: LambdaEvent, context: unknown) => Promise<AwsResponse | { ok: boolean; jobs?: number; failed?: number; prsRefreshed?: number }>;

/** `deferred` for Lambda: invokes `functionName` asynchronously (InvocationType Event) with the task. */
export function newLambdaDeferred(client: LambdaClient, functionName: string): (task: DeferredTask) => Promise<void> {
  return async (task) => {
    const { InvokeCommand } = await import("@aws-sdk/client-lambda");
    const r = await client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: "Event", Payload: Buffer.from(JSON.stringify({ codyTask: task } satisfies TaskEvent)) }),
    );
    if (r.StatusCode !== 202) throw new Error(`async self-invocation answered ${r.StatusCode}`);
  };
}

/**
 * The handler over ready dependencies. Throws at build time for an empty signing secret or
 * bot token (see newBoltApp).
 */
export function newLambdaHandler(parts: {
  deps: BotDeps;
  token: string;
  signingSecret: string;
  apiUrl?: string;
  linkKey?: Buffer;
  artifacts: Pick<Artifacts, "link">;
  log: Logger;
  /** Settings of the scheduled watchdog pass (defaults: 30 s heartbeats, 3 attempts, 60 minutes). */
  watchdog?: Omit<WatchdogSettings, "limit">;
  /** `POST /github/webhooks` (bot/wiring.ts githubWebhookOf); absent without GITHUB_WEBHOOK_SECRET. */
  githubWebhook?: GitHubWebhookHandler;
  /** The job pages (`GET /jobs/…`); absent when pages cannot be signed. */
  page?: PageDeps;
  /** The sweep's second half: refreshes the PRs of open campaigns (core/github/pr-tracking.ts); absent without GitHub. */
  refreshCampaigns?: () => Promise<{ refreshed: number }>;
}): LambdaHandler {
  const receiver = new AwsLambdaReceiver({ signingSecret: parts.signingSecret });
  newBoltApp({ token: parts.token, signingSecret: parts.signingSecret, apiUrl: parts.apiUrl, receiver }, parts.deps);
  const bolt = receiver.toHandler();
  return async (event, context) => {
    if ("codyTask" in event) {
      await runDeferredTask(parts.deps, event.codyTask);
      return { ok: true };
    }
    if (isScheduledEvent(event)) {
      const settings = parts.watchdog ?? { heartbeatSeconds: 30, maxAttempts: 3, pendingMinutes: 60 };
      const n = parts.deps.notifier as typeof parts.deps.notifier & Partial<Pick<Notifier, "repoFinished">>;
      const notifier = { jobFinished: n.jobFinished.bind(n), repoFinished: n.repoFinished ? n.repoFinished.bind(n) : async () => undefined };
      let r: Awaited<ReturnType<typeof runWatchdog>>;
      try {
        r = await runWatchdog({ store: parts.deps.store, notifier, log: parts.log }, settings, new Date());
      } catch (err) {
        // The "watchdog-errors" alarm counts this line (terraform/alarms.ts).
        parts.log.error({ err: { message: (err as Error).message } }, "watchdog pass failed");
        throw err;
      }
      // A GitHub outage must not hide the watchdog's result.
      const c = await parts.refreshCampaigns?.().catch((err: unknown) => void parts.log.error({ err }, "campaign refresh failed"));
      return { ok: true, ...r, ...(c ? { prsRefreshed: c.refreshed } : {}) };
    }
    const { method, path } = requestLine(event);
    if (method === "GET" && path === "/health") return { statusCode: 200, body: "ok\n" };
    if (method === "POST" && path === "/github/webhooks") {
      if (!parts.githubWebhook) return { statusCode: 404, body: "webhooks are not enabled\n" };
      const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
      const rawBody = event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : (event.body ?? "");
      const r = await parts.githubWebhook({ event: headers["x-github-event"], signature: headers["x-hub-signature-256"], rawBody });
      return { statusCode: r.status, body: r.body };
    }
    if ((method === "GET" || method === "HEAD") && path.startsWith("/jobs/")) {
      if (!parts.page) return { statusCode: 404, body: "job pages are not enabled\n" };
      const r = await servePage(parts.page, path.slice("/jobs/".length), queryOf(event));
      return { statusCode: r.status, headers: r.headers, body: method === "HEAD" ? "" : r.body };
    }
    if (method === "GET" && path.startsWith("/links/")) {
      if (!parts.linkKey) return { statusCode: 404, body: "links are not enabled\n" };
      try {
        const r = await serveLink({ linkKey: parts.linkKey, artifacts: parts.artifacts }, path.slice("/links/".length));
        return r.status === 302 ? { statusCode: 302, headers: { location: r.location }, body: "" } : { statusCode: r.status, body: r.body };
      } catch (err) {
        parts.log.error({ err: { message: (err as Error).message } }, "link failed");
        return { statusCode: 500, body: "internal error\n" };
      }
    }
    return bolt(event, context);
  };
}

function isScheduledEvent(event: AwsEvent | ScheduledEvent): event is ScheduledEvent {
  return "source" in event && event.source === "aws.events";
}

/** The raw query string of an API Gateway event (payload 2.0 `rawQueryString`, 1.0 its parameters). */
function queryOf(event: AwsEvent): string {
  if ("rawQueryString" in event) return String((event as { rawQueryString?: string }).rawQueryString ?? "");
  const p = (event as { queryStringParameters?: Record<string, string | undefined> | null }).queryStringParameters ?? {};
  return new URLSearchParams(Object.entries(p).filter((e): e is [string, string] => typeof e[1] === "string")).toString();
}

function requestLine(event: AwsEvent): { method: string; path: string } {
  if ("rawPath" in event) {
    const http = (event.requestContext as { http?: { method?: string } } | undefined)?.http;
    return { method: http?.method ?? "POST", path: event.rawPath };
  }
  return { method: event.httpMethod, path: event.path };
}

/** Builds the handler from a config and a launcher (AWS: the Batch launcher). */
export async function lambdaHandlerFromConfig(config: Config, launcher: Launcher, functionName: string, log: Logger): Promise<LambdaHandler> {
  const store = newStore(config);
  const artifacts = newArtifacts(config);
  // The Lambda SDK loads on the first deferral, not at cold start.
  let invoke: ((task: DeferredTask) => Promise<void>) | undefined;
  const deferred = async (task: DeferredTask) => {
    if (!invoke) {
      const { LambdaClient } = await import("@aws-sdk/client-lambda");
      invoke = newLambdaDeferred(new LambdaClient({ region: config.region, requestHandler: AWS_HTTP_TIMEOUTS }), functionName);
    }
    return invoke(task);
  };
  const deps = newBotDeps(config, log, { store, artifacts, launcher, deferred });
  return newLambdaHandler({
    deps,
    token: config.slack.botToken ?? "",
    signingSecret: config.slack.signingSecret ?? "",
    apiUrl: config.slack.apiUrl,
    linkKey: linkKeyOf(config),
    artifacts,
    log,
    ...pagePart(config, store, artifacts, log),
    watchdog: { heartbeatSeconds: config.heartbeatSeconds, maxAttempts: config.maxAttempts, pendingMinutes: config.watchdogPendingMinutes },
    ...webhookPart(config, log, store, deps),
    ...(config.github.token || config.github.app || config.github.apiUrl
      ? {
          refreshCampaigns: async () => {
            // Octokit loads on the first scheduled pass, not at cold start.
            const t = await import("../core/github/pr-tracking.ts");
            const notifier = deps.notifier as typeof deps.notifier & { refreshRoot?: (jobId: string, signal?: AbortSignal) => Promise<void> };
            return t.refreshOpenCampaigns(
              { store, readPr: t.newPrReader(t.octokitPerOwner(config, log)), log, ...(notifier.refreshRoot ? { onChanged: notifier.refreshRoot.bind(notifier) } : {}) },
              { budget: config.prRefreshBudget, minAgeMs: 4 * 60_000 },
            );
          },
        }
      : {}),
  });
}

function pagePart(config: Config, store: ReturnType<typeof newStore>, artifacts: Artifacts, log: Logger): { page?: PageDeps } {
  const page = pageDepsOf(config, { store, artifacts, log });
  return page ? { page } : {};
}

function webhookPart(config: Config, log: Logger, store: ReturnType<typeof newStore>, deps: BotDeps): { githubWebhook?: GitHubWebhookHandler } {
  const notifier = deps.notifier as BotDeps["notifier"] & { refreshRoot?: (jobId: string) => Promise<void> };
  const githubWebhook = githubWebhookOf(config, log, { store, ...(notifier.refreshRoot ? { onChanged: notifier.refreshRoot.bind(notifier) } : {}) });
  return githubWebhook ? { githubWebhook } : {};
}

let cold: Promise<LambdaHandler> | undefined;

/** The Lambda entry: secrets resolved once per cold start (`*_SECRET_ARN`), then the handler. */
export const handler: LambdaHandler = async (event, context) => {
  cold ??= (async () => {
    const env = await resolveSecrets(process.env);
    const config = loadConfig(env);
    const log = newLogger({ level: config.logLevel, secrets: secretValues(config) }).child({ program: "bot" });
    const { newBatchLauncher } = await import("../core/launch/batch-launcher.ts");
    const functionName = env.AWS_LAMBDA_FUNCTION_NAME;
    if (!functionName) throw new Error("AWS_LAMBDA_FUNCTION_NAME is not set (the Lambda runtime sets it)");
    return lambdaHandlerFromConfig(config, newBatchLauncher(config), functionName, log);
  })();
  try {
    return await (await cold)(event, context);
  } catch (err) {
    cold = undefined; // a failed cold start is retried on the next event
    throw err;
  }
};
