/**
 * Bot acknowledgement latency: signed `/cody` slash commands (empty text: acknowledge, then open
 * the job modal) against the bot's HTTP server exactly as `make dev` runs it (`cody dev`, its
 * own process, over the embedded stack), with the fake Slack Web API behind it. Baseline: a bare
 * Node HTTP server in its own process that reads the body and answers 200, driven the same way.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { signSlackRequest, startFakeSlack } from "../../test/fakes/slack.ts";
import { ROOT, startStackProcess, stopChild } from "./processes.ts";
import { percentile, round } from "./results.ts";

export type AckResult = { p50: number; p99: number; baselineP50: number; baselineP99: number; ok: number; modalsOpened: number };

const SECRET = "bench-signing-secret-0123456789";

const BARE_SERVER = `
const http = require("node:http");
http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => { res.writeHead(200, { "content-type": "application/json" }); res.end(JSON.stringify({ ok: true, n: body.length })); });
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

/** Sends `total` requests, `parallel` at a time, to both servers; returns percentiles in ms. */
export async function benchAck(opts: { total: number; parallel: number }): Promise<AckResult> {
  const slack = await startFakeSlack();
  const stack = await startStackProcess();
  const botPort = await freePort();
  const barePort = await freePort();
  const bot = spawn(process.execPath, [join(ROOT, "scripts", "cody.mjs"), "dev"], {
    env: {
      ...process.env,
      ...stack.env,
      PORT: String(botPort),
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
      SLACK_APP_TOKEN: "",
      ALLOWED_REPOSITORIES: "bench/*",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const bare = spawn(process.execPath, ["-e", BARE_SERVER], { env: { ...process.env, PORT: String(barePort) }, stdio: "ignore" });
  try {
    await waitFor(`http://127.0.0.1:${botPort}/health`, bot);
    await waitFor(`http://127.0.0.1:${barePort}/`, bare);
    const botUrl = `http://127.0.0.1:${botPort}/slack/events`;
    const bareUrl = `http://127.0.0.1:${barePort}/slack/events`;
    // Warm-up (JIT, connection setup) on both, then alternate measured rounds.
    await drive(botUrl, 20, opts.parallel);
    await drive(bareUrl, 20, opts.parallel);
    const modalsBefore = slack.ok("views.open").length;
    const botMs = await drive(botUrl, opts.total, opts.parallel);
    const bareMs = await drive(bareUrl, opts.total, opts.parallel);
    // The modals open after the acknowledgement: give the last ones a moment.
    for (let i = 0; i < 50 && slack.ok("views.open").length - modalsBefore < opts.total; i++) await new Promise((r) => setTimeout(r, 100));
    return {
      p50: round(percentile(botMs.ms, 50)),
      p99: round(percentile(botMs.ms, 99)),
      baselineP50: round(percentile(bareMs.ms, 50)),
      baselineP99: round(percentile(bareMs.ms, 99)),
      ok: botMs.ok,
      modalsOpened: slack.ok("views.open").length - modalsBefore,
    };
  } finally {
    await stopChild(bot);
    await stopChild(bare);
    await stack.stop();
    await slack.close();
  }
}

function command(i: number): string {
  return new URLSearchParams({
    token: "legacy", team_id: "T1", channel_id: "C1", user_id: "UBENCH", command: "/cody", text: "",
    trigger_id: `1337.${i}.bench`, response_url: "http://127.0.0.1:1/hooks", api_app_id: "A1",
  }).toString();
}

/** `total` signed requests with at most `parallel` in flight; latency of each, and how many got 200. */
async function drive(url: string, total: number, parallel: number): Promise<{ ms: number[]; ok: number }> {
  const ms: number[] = [];
  let ok = 0;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const body = command(i);
      const headers = { "content-type": "application/x-www-form-urlencoded", ...signSlackRequest(SECRET, body) };
      const t0 = performance.now();
      const r = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
      await r.text();
      ms.push(performance.now() - t0);
      if (r.status === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { ms, ok };
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode} before answering ${url}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.text();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer within 30 s`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
