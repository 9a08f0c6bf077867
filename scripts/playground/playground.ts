/**
 * The playground (`cody playground`, `make playground`): the real bot — Bolt's HTTP receiver and
 * every listener, wired as `cody dev` wires it — over the embedded stack, talking to local
 * stand-ins: Slack (scripts/playground/slack-standin.ts) and GitHub's REST API over the example
 * repositories' `file://` remotes (test/fakes/github.ts), so pull requests open, checks can be
 * flipped and PRs merged from the page. All on 127.0.0.1; the real Slack and GitHub settings of
 * the environment are dropped, never used.
 */
import { HTTPReceiver } from "@slack/bolt";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { httpRoutes, newBoltApp, newLocalDeferred, type BotDeps } from "../../bot/app.ts";
import { newBotDeps } from "../../bot/wiring.ts";
import { loadConfig, secretValues } from "../../core/config/index.ts";
import { logDestination, newLogger, type Logger } from "../../core/runtime/index.ts";
import { startFakeGitHub, type FakeGitHub } from "../../test/fakes/github.ts";
import { openEnvironment } from "../../environment/index.ts";
import { EXAMPLE_OWNER, makeExampleRepos } from "../example-repos.ts";
import { playgroundPage } from "./page.ts";
import { PLAYGROUND, startSlackStandIn, type SlackStandIn } from "./slack-standin.ts";

/** Settings of the environment the playground never passes on (its stand-ins replace them). */
const REAL_SETTINGS = /^(SLACK_|GITHUB_|ALLOWED_|GIT_BASE_URL|BOT_PUBLIC_URL|LINK_SECRET)/;

export type Playground = { url: string; slack: SlackStandIn; github: FakeGitHub; close(): Promise<void> };

/** Starts everything; the page is at `url`. `port` 0 picks a free one. */
export async function startPlayground(env0: NodeJS.ProcessEnv, opts: { port?: number; log?: Logger } = {}): Promise<Playground> {
  const dir = env0.CODY_DIR ?? ".cody";
  const examples = makeExampleRepos(dir);
  const ghToken = `ghp_playground${randomBytes(12).toString("hex")}`;
  const github = await startFakeGitHub({ tokens: [ghToken], gitRoot: examples.gitBaseUrl.replace(/^file:\/\//, "") });
  for (const r of examples.repositories) github.addRepo(r);
  const slack = await startSlackStandIn();
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(env0).filter(([k]) => !REAL_SETTINGS.test(k)));
  Object.assign(env, {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: slack.signingSecret,
    SLACK_API_URL: slack.apiUrl,
    ALLOWED_REPOSITORIES: `${EXAMPLE_OWNER}/*`,
    ALLOWED_SLACK_USERS: PLAYGROUND.user,
    ALLOWED_SLACK_TEAMS: PLAYGROUND.team,
    GIT_BASE_URL: examples.gitBaseUrl,
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: ghToken,
    GITHUB_WRITE_INTERVAL_MS: "0",
    GITHUB_NOTIFY_INTERVAL_MS: "0",
  });
  const first = loadConfig(env);
  const log = opts.log ?? newLogger({ level: env.LOG_LEVEL ?? "warn", secrets: secretValues(first), base: { program: "playground" } }, logDestination(env, process.stderr));
  const world = await openEnvironment(env, { log });
  let deps: BotDeps | undefined;
  const local = newLocalDeferred(() => deps!);
  deps = newBotDeps(world.config, log, { store: world.store, artifacts: world.artifacts, launcher: world.launcher, deferred: local.deferred });
  const receiver = new HTTPReceiver({ signingSecret: slack.signingSecret, customRoutes: httpRoutes({ linkKey: undefined, artifacts: world.artifacts, log }) });
  newBoltApp({ token: slack.token, signingSecret: slack.signingSecret, apiUrl: slack.apiUrl, receiver }, deps);
  const botServer = await receiver.start({ port: 0, host: "127.0.0.1" });
  slack.botUrl = `http://127.0.0.1:${(botServer.address() as AddressInfo).port}`;

  const page = createServer((req, res) => {
    void handle(req).then(
      (a) => {
        res.writeHead(a.status, { "content-type": a.type ?? "application/json", "cache-control": "no-store" });
        res.end(a.body);
      },
      (err: unknown) => {
        log.warn({ err }, "playground request failed");
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: (err as Error).message }));
      },
    );
  });
  async function handle(req: IncomingMessage): Promise<{ status: number; body: string; type?: string }> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const json = (v: unknown) => ({ status: 200, body: JSON.stringify(v) });
    if (req.method === "GET" && url.pathname === "/") return { status: 200, body: playgroundPage(), type: "text/html; charset=utf-8" };
    if (req.method === "GET" && url.pathname === "/favicon.ico") return { status: 204, body: "" };
    if (req.method === "GET" && url.pathname === "/state") return json({ ...slack.state(), pulls: pulls() });
    if (req.method !== "POST") return { status: 404, body: "{}" };
    const body = JSON.parse((await readBody(req)) || "{}") as Record<string, unknown>;
    switch (url.pathname) {
      case "/command":
        await slack.command(String(body.text ?? ""));
        return json({});
      case "/submit":
        return json({ errors: (await slack.submit(body.values as Record<string, unknown>)) ?? null });
      case "/close":
        slack.closeModal();
        return json({});
      case "/click":
        await slack.click(body as Parameters<SlackStandIn["click"]>[0]);
        return json({});
      case "/github/checks": {
        const { repository, branch, conclusion } = body as { repository: string; branch: string; conclusion: "success" | "failure" };
        github.setCheckRuns(repository, branch, [{ name: "ci", status: "completed", conclusion }]);
        return json({});
      }
      case "/github/approve": {
        const { repository, number } = body as { repository: string; number: number };
        github.addReview(repository, number, "reviewer", "APPROVED");
        return json({});
      }
      default:
        return { status: 404, body: "{}" };
    }
  }
  function pulls() {
    return examples.repositories.flatMap((r) => github.pulls(r).map((p) => ({ repository: r, number: p.number, branch: p.head, state: p.state, merged: Boolean((p as { merged?: boolean }).merged) })));
  }
  await new Promise<void>((done) => page.listen(opts.port ?? 0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
  return {
    url,
    slack,
    github,
    async close() {
      await new Promise<void>((done) => (page as Server).close(() => done()));
      await receiver.stop().catch(() => undefined);
      await local.settled();
      await world.close();
      await slack.close();
      await github.close();
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    let s = "";
    req.on("data", (d: Buffer) => (s += d.toString()));
    req.on("end", () => done(s));
    req.on("error", fail);
  });
}

/** Where the example remotes live for a CODY_DIR (for messages). */
export function playgroundRemotes(env: NodeJS.ProcessEnv): string {
  return resolve(env.CODY_DIR ?? ".cody", "remotes");
}
