/**
 * Test support: the bot over its real HTTP entry — an in-memory embedded stack, the fake Slack
 * Web API, Bolt's HTTPReceiver on 127.0.0.1:0 with the listeners over real adapters, a
 * recording launcher and in-process deferred tasks.
 */
import { HTTPReceiver } from "@slack/bolt";
import type { AddressInfo } from "node:net";
import { newArtifacts } from "../../core/jobs/index.ts";
import { loadConfig, type Config } from "../../core/config/index.ts";
import type { Job } from "../../core/jobs/index.ts";
import { newLogger } from "../../core/runtime/index.ts";
import { newStore, type Store } from "../../core/jobs/index.ts";
import { newSlackClient, newSlackNotifierFromConfig } from "../../bot/slack-notifier.ts";
import { EmbeddedStack } from "../../environment/index.ts";
import { httpRoutes, newBoltApp, newLocalDeferred, newTell, type BotDeps } from "../../bot/app.ts";
import type { BotSettings, ExpandOwner } from "../../bot/jobs.ts";
import { deriveLinkKey } from "../../bot/links.ts";
import { startFakeSlack, type FakeSlack } from "../fakes/slack.ts";
import { postToBot } from "./slack-requests.ts";

export type BotServer = {
  stack: EmbeddedStack;
  config: Config;
  store: Store;
  slack: FakeSlack;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Jobs handed to the launcher, in order. */
  launched: Job[];
  /** The listeners' settings: a test may change them between requests. */
  settings: BotSettings;
  /** Resolves when every deferred task has ended. */
  settled(): Promise<void>;
  /** POSTs a body signed with the signing secret (or with `headers`) to `/slack/events`. */
  post(body: string, headers?: Record<string, string>): ReturnType<typeof postToBot>;
  close(): Promise<void>;
};

/** Starts the bot; `env` adds to the config's environment, `settings` start from the config's. */
export async function startBotServer(opts: { secret: string; env?: NodeJS.ProcessEnv; settings?: Partial<BotSettings>; expandOwner?: ExpandOwner }): Promise<BotServer> {
  const log = newLogger({ level: "silent" });
  const stack = await EmbeddedStack.start({ inMemory: true, env: {} });
  const slack = await startFakeSlack();
  const config = loadConfig({ ...stack.env, SLACK_BOT_TOKEN: slack.token, SLACK_SIGNING_SECRET: opts.secret, SLACK_API_URL: slack.apiUrl, ...opts.env });
  const store = newStore(config);
  const retryConfig = { retries: 3, minTimeout: 1, maxTimeout: 5 };
  const client = newSlackClient(config, { retryConfig });
  const artifacts = newArtifacts(config);
  const launched: Job[] = [];
  const settings: BotSettings = { allowlist: config.allowlist, allowedSlackUsers: [], ...opts.settings };
  let deps: BotDeps;
  const local = newLocalDeferred(() => deps);
  deps = {
    store,
    artifacts,
    launcher: {
      async submit(job) {
        launched.push(job);
        return { batchJobId: `local-${job.jobId}` };
      },
      async cancel() {},
    },
    notifier: newSlackNotifierFromConfig(config, log, { client, artifacts, replyWindowMs: 1 }),
    expandOwner: opts.expandOwner ?? (async () => []),
    settings,
    tell: newTell(client, log),
    log,
    deferred: (task) => local.deferred(task),
  };
  const receiver = new HTTPReceiver({ signingSecret: opts.secret, customRoutes: httpRoutes({ linkKey: deriveLinkKey(opts.secret), artifacts, log }) });
  newBoltApp({ token: slack.token, signingSecret: opts.secret, apiUrl: slack.apiUrl, receiver, retryConfig }, deps);
  const server = await receiver.start({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    stack,
    config,
    store,
    slack,
    base,
    launched,
    settings,
    settled: () => local.settled(),
    post: (body, headers) => postToBot(base, opts.secret, body, headers),
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await slack.close();
      await stack.stop();
    },
  };
}
