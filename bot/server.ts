/**
 * The bot's local entry (`make dev`): the embedded stack and the local launcher (through the
 * CLI's environment), Bolt's HTTP receiver on `PORT` (default 3000) serving `/slack/events`,
 * `/health`, `/links/<token>` and the job pages `/jobs/<token>`; Socket Mode instead when `SLACK_APP_TOKEN` is set. Deferred
 * work runs in this process after the acknowledgement.
 */
import { HTTPReceiver } from "@slack/bolt";
import { loadConfig } from "../core/config/index.ts";
import { logDestination, newLogger } from "../core/runtime/index.ts";
import { secretValues } from "../core/config/index.ts";
import { openEnvironment } from "../environment/index.ts";
import { httpRoutes, newBoltApp, newLocalDeferred } from "./app.ts";
import type { BotDeps } from "./app.ts";
import { pageDepsOf } from "./web/page-wiring.ts";
import { botStartProblem, githubWebhookOf, linkKeyOf, newBotDeps } from "./wiring.ts";

/** Runs the bot until SIGINT/SIGTERM; resolves with the exit code (2 for a configuration problem). */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const first = loadConfig(env);
  const problem = botStartProblem(first);
  if (problem) {
    // Said once, to the person: every missing setting at once (no log line repeating it).
    process.stderr.write(`cody dev: ${problem}\nTo try the bot without a Slack workspace: cody playground\n`);
    return 2;
  }
  // Human lines on a terminal, JSON for programs (LOG_FORMAT=json, or not a terminal).
  const log = newLogger({ level: first.logLevel, secrets: secretValues(first) }, logDestination(env, process.stdout)).child({ program: "bot" });
  const world = await openEnvironment(env, { log });
  const config = world.config;
  const port = Number(env.PORT ?? 3000);
  let deps: BotDeps | undefined;
  const local = newLocalDeferred(() => deps!);
  deps = newBotDeps(config, log, { store: world.store, artifacts: world.artifacts, launcher: world.launcher, deferred: local.deferred });
  const notifier = deps.notifier as BotDeps["notifier"] & { refreshRoot?: (jobId: string) => Promise<void> };
  const githubWebhook = githubWebhookOf(config, log, { store: world.store, ...(notifier.refreshRoot ? { onChanged: notifier.refreshRoot.bind(notifier) } : {}) });
  const page = pageDepsOf(config, { store: world.store, artifacts: world.artifacts, log });
  const routes = httpRoutes({ linkKey: linkKeyOf(config), artifacts: world.artifacts, log, ...(githubWebhook ? { githubWebhook } : {}), ...(page ? { page } : {}) });

  let stop: () => Promise<void>;
  if (config.slack.appToken) {
    const app = newBoltApp({ token: config.slack.botToken!, apiUrl: config.slack.apiUrl, socketMode: { appToken: config.slack.appToken, port, customRoutes: routes } }, deps);
    await app.start();
    log.info({ port }, "bot connected in Socket Mode; /health and /links served on the port");
    stop = async () => void (await app.stop());
  } else {
    const receiver = new HTTPReceiver({ signingSecret: config.slack.signingSecret!, customRoutes: routes });
    newBoltApp({ token: config.slack.botToken!, signingSecret: config.slack.signingSecret, apiUrl: config.slack.apiUrl, receiver }, deps);
    await receiver.start(port);
    log.info({ port, events: `http://localhost:${port}/slack/events` }, "bot listening");
    stop = () => receiver.stop();
  }

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  log.info("stopping");
  await stop().catch(() => undefined);
  await local.settled();
  await world.close();
  return 0;
}
