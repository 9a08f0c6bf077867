/**
 * Builds the Bolt app from its dependencies: the receiver (HTTP locally, Lambda in AWS, Socket
 * Mode), the listeners, and the extra HTTP routes (`GET /health`, `GET /links/<token>`).
 * Entry points (server.ts, lambda.ts) decide the receiver and wire the dependencies.
 */
import type { ServerResponse } from "node:http";
import { App, LogLevel, type Receiver } from "@slack/bolt";
import type { CustomRoute } from "@slack/bolt/dist/receivers/custom-routes.js";
import type { ParamsIncomingMessage } from "@slack/bolt/dist/receivers/ParamsIncomingMessage.js";
import type { WebClient } from "@slack/web-api";
import type { Artifacts } from "../core/jobs/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import { SLACK_RETRY, slackApiUrl } from "./slack-notifier.ts";
import type { Store } from "../core/jobs/index.ts";
import { runDeferredTask, type DeferredTask, type TaskDeps, type Tell } from "./jobs.ts";
import { serveLink } from "./links.ts";
import { registerListeners } from "./listeners/index.ts";
import { pageRoutes } from "./web/page-routes.ts";
import type { PageDeps } from "./web/serve-page.ts";
import type { BotDeps } from "./task-types.ts";

/** What the listeners use (defined in task-types.ts, which the listeners import instead of this file). */
export type { BotDeps } from "./task-types.ts";

export type AppOptions = {
  token: string;
  signingSecret?: string;
  apiUrl?: string;
  receiver?: Receiver;
  /** Socket Mode instead of a receiver (needs the app-level token). */
  socketMode?: { appToken: string; port: number; customRoutes: CustomRoute[] };
  retryConfig?: typeof SLACK_RETRY;
};

/** Thrown when the bot must not start: an empty signing secret once let requests skip verification. */
export class BotConfigError extends Error {
  override name = "BotConfigError";
}

/**
 * A Bolt app with every listener registered. Refuses (throws {@link BotConfigError}) an empty
 * bot token, and an empty signing secret unless in Socket Mode (which is not signed).
 */
export function newBoltApp(opts: AppOptions, deps: BotDeps): App {
  if (!opts.token) throw new BotConfigError("SLACK_BOT_TOKEN is empty; the bot cannot start");
  if (!opts.socketMode && !opts.signingSecret) {
    throw new BotConfigError("SLACK_SIGNING_SECRET is empty; refusing to start (requests could not be verified)");
  }
  const clientOptions = { retryConfig: opts.retryConfig ?? SLACK_RETRY, ...(opts.apiUrl ? { slackApiUrl: slackApiUrl(opts.apiUrl) } : {}) };
  const app = opts.socketMode
    ? new App({
        token: opts.token,
        appToken: opts.socketMode.appToken,
        socketMode: true,
        customRoutes: opts.socketMode.customRoutes,
        installerOptions: { port: opts.socketMode.port },
        clientOptions,
        logLevel: LogLevel.ERROR,
      })
    : new App({ token: opts.token, receiver: opts.receiver!, clientOptions, logLevel: LogLevel.ERROR });
  registerListeners(app, deps);
  app.error(async (err) => {
    deps.log.error({ err: { message: err.message, code: (err as { code?: string }).code } }, "listener failed");
  });
  return app;
}

/** `tell` over a WebClient: ephemeral in a channel, else a direct message. Never throws. */
export function newTell(client: WebClient, log: Logger): Tell {
  return async (to, text) => {
    try {
      if (to.channel) await client.chat.postEphemeral({ channel: to.channel, user: to.userId, text });
      else await client.chat.postMessage({ channel: to.userId, text });
    } catch (err) {
      // Ephemeral messages fail where the bot is not a member; a DM always works.
      if (to.channel) {
        await client.chat.postMessage({ channel: to.userId, text }).catch(() => undefined);
      }
      log.warn({ err: { message: (err as Error).message } }, "telling a user failed");
    }
  };
}

/**
 * The in-process `deferred` for local runs: starts the task and returns at once. `settled()`
 * resolves when every started task has ended (tests, shutdown).
 */
export function newLocalDeferred(deps: () => TaskDeps): { deferred: (task: DeferredTask) => Promise<void>; settled(): Promise<void> } {
  const running = new Set<Promise<void>>();
  return {
    async deferred(task) {
      const p = runDeferredTask(deps(), task).finally(() => running.delete(p));
      running.add(p);
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}

/** A GitHub webhook delivery handler (core/github/github-webhook.ts), as bot/wiring.ts builds it. */
export type GitHubWebhookHandler = (input: { event?: string; signature?: string; rawBody: string }) => Promise<{ status: number; body: string }>;

/**
 * The extra routes of the HTTP receiver: health, stable artifact links when a link key is set,
 * `POST /github/webhooks` when a webhook handler is given, and the job pages (`GET /jobs/…`,
 * bot/web/) when `page` is given.
 */
export function httpRoutes(deps: { linkKey?: Buffer; artifacts: Pick<Artifacts, "link">; log: Logger; githubWebhook?: GitHubWebhookHandler; page?: PageDeps }): CustomRoute[] {
  const routes: CustomRoute[] = [
    { path: "/health", method: ["GET"], handler: (_req, res) => send(res, 200, "ok\n") },
  ];
  if (deps.page) routes.push(...pageRoutes(deps.page));
  const webhook = deps.githubWebhook;
  if (webhook) {
    routes.push({
      path: "/github/webhooks",
      method: ["POST"],
      handler: (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const header = (name: string) => (typeof req.headers[name] === "string" ? (req.headers[name] as string) : undefined);
          webhook({ event: header("x-github-event"), signature: header("x-hub-signature-256"), rawBody: Buffer.concat(chunks).toString("utf8") })
            .then((r) => send(res, r.status, r.body))
            .catch((err: unknown) => {
              deps.log.error({ err: { message: (err as Error).message } }, "github webhook failed");
              send(res, 500, "internal error\n");
            });
        });
      },
    });
  }
  const linkKey = deps.linkKey;
  if (linkKey) {
    routes.push({
      path: "/links/:token",
      method: ["GET"],
      handler: (req: ParamsIncomingMessage, res: ServerResponse) => {
        serveLink({ linkKey, artifacts: deps.artifacts }, String(req.params?.token ?? ""))
          .then((r) => (r.status === 302 ? (res.writeHead(302, { location: r.location }), res.end()) : send(res, r.status, r.body)))
          .catch((err: unknown) => {
            deps.log.error({ err: { message: (err as Error).message } }, "link failed");
            send(res, 500, "internal error\n");
          });
      },
    });
  }
  return routes;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(body);
}
