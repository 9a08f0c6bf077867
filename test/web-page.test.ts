/**
 * The job's web page (issue 20) over real HTTP: `cody web`'s server on 127.0.0.1 and the Lambda
 * handler, the store and artifacts on dynalite and s3rver. Golden HTML structure of a
 * 20-repository campaign mid-way and done (tags, ids, classes and row states: not pixels, not
 * times), its JSON, token checks (forged, tampered, expired, another job, traversal, malformed
 * escapes), escaping of hostile names, reasons, summaries and diffs, redaction, and the headers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { derivePageKey, pageToken } from "../bot/web/page-token.ts";
import { ASSETS } from "../bot/web/page-assets.ts";
import { PAGE_CSP } from "../bot/web/serve-page.ts";
import { startPageServer } from "../scripts/cli-web.ts";
import { seedCampaign } from "./support/web-fixture.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import type { Job } from "../core/jobs/index.ts";

const SECRET = "page-test-signing-secret-0123456789";
const key = derivePageKey(SECRET);
let stack: TestStack;
let server: Awaited<ReturnType<typeof startPageServer>>;
let midway: Job;
let done: Job;

beforeAll(async () => {
  stack = await startTestStack();
  server = await startPageServer({ pageKey: key, store: stack.store, artifacts: stack.artifacts, secrets: [SECRET], log: stack.log }, 0);
  midway = await seedCampaign(stack, { jobId: "j-webmidway1", n: 20, phase: "midway" });
  done = await seedCampaign(stack, { jobId: "j-webdone001", n: 20, phase: "done" });
});

afterAll(async () => {
  await server?.close();
  await stack?.stop();
});

const get = (path: string) => fetch(`${server.base}${path}`, { redirect: "manual" });

/**
 * The page's structure: one line per element with an id, a class or a row state, as
 * `tag#id.class [data-…]`, indented by depth; texts, times and coordinates left out.
 */
function skeleton(html: string): string {
  const out: string[] = [];
  let depth = 0;
  const voids = new Set(["meta", "link", "input", "br", "img"]);
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*?)(\/?)>/g)) {
    const [, close, tag, attrs, selfClose] = m as unknown as [string, string, string, string, string];
    const t = tag.toLowerCase();
    if (close) {
      depth = Math.max(0, depth - 1);
      continue;
    }
    const id = /\sid="([^"]*)"/.exec(attrs)?.[1];
    const cls = /\sclass="([^"]*)"/.exec(attrs)?.[1];
    const data = [...attrs.matchAll(/\s(data-(?:status|pr|checks|review|key|type|live))="([^"]*)"/g)].map((d) => `${d[1]}=${d[2]}`);
    if (id || cls || data.length || ["section", "table", "th", "tr", "option", "select", "h1", "h2", "script"].includes(t)) {
      out.push(`${"  ".repeat(depth)}${t}${id ? `#${id}` : ""}${cls ? `.${cls.trim().split(/\s+/).join(".")}` : ""}${data.length ? ` [${data.join(" ")}]` : ""}`);
    }
    if (!selfClose && !voids.has(t)) depth += 1;
  }
  return `${out.join("\n")}\n`;
}

/** The JSON with times, versions and costs that depend on the clock made stable. */
function stableJson(text: string): string {
  return JSON.stringify(JSON.parse(text), (k, v) => (k === "version" ? "<version>" : typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? "<time>" : v), 2);
}

describe("the job page", () => {
  it.for([
    { name: "campaign-midway", job: () => midway },
    { name: "campaign-done", job: () => done },
  ])("renders a 20-repository $name with its golden structure and JSON", async (tc) => {
    const token = pageToken(key, tc.job());
    const page = await get(`/jobs/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html.match(/<tr data-name=/g)).toHaveLength(20);
    expect(html).toContain('<svg class="burndown"');
    await expect(skeleton(html)).toMatchFileSnapshot(`./__golden__/web-${tc.name}.txt`);
    const json = await get(`/jobs/${token}.json`);
    expect(json.status).toBe(200);
    await expect(stableJson(await json.text())).toMatchFileSnapshot(`./__golden__/web-${tc.name}.json`);
  });

  it("shows a repository's diff file by file and its conversation", async () => {
    const token = pageToken(key, done);
    const r = await get(`/jobs/${token}?repo=${encodeURIComponent("acme/service-00")}`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('<details class="diff-file" open><summary><span class="path">src/http.ts</span>');
    expect(html).toMatch(/<tr class="ln add">.*getJson/);
    expect(html).toMatch(/<tr class="ln del">.*fetchJson/);
    expect(html).toContain('<article class="msg assistant">');
    expect(html).toContain("tool call <code>str_replace_based_edit_tool</code>");
    expect((await get(`/jobs/${token}?repo=acme%2Fnot-in-this-job`)).status).toBe(404);
  });

  it("marks a job live while it runs and final when its PRs are all merged or closed", async () => {
    expect(JSON.parse(await (await get(`/jobs/${pageToken(key, midway)}.json`)).text()).live).toBe(true);
    const m = JSON.parse(await (await get(`/jobs/${pageToken(key, done)}.json`)).text());
    expect(m.job.status).toBe("FAILED");
    expect(m.live).toBe(m.job.campaign.open > 0);
    expect(m.history.length).toBeGreaterThan(10);
    expect(m.history.at(-1)).toMatchObject({ completed: m.job.counters.completed, failed: m.job.counters.failed, merged: m.job.campaign.merged });
    // The poller's question: the same version answers "unchanged" without the rows; another gets the model.
    const token = pageToken(key, done);
    const same = JSON.parse(await (await get(`/jobs/${token}.json?since=${encodeURIComponent(m.version)}`)).text());
    expect(same).toEqual({ version: m.version, unchanged: true, live: m.live, job: { status: "FAILED" } });
    const older = JSON.parse(await (await get(`/jobs/${token}.json?since=old`)).text());
    expect(older.repositories).toHaveLength(20);
  });

  it("answers every request with a strict Content-Security-Policy and serves its own assets only", async () => {
    for (const path of [`/jobs/${pageToken(key, done)}`, `/jobs/${pageToken(key, done)}.json`, "/jobs/nope", `/jobs/assets/${ASSETS.js.name}`]) {
      const r = await get(path);
      expect(r.headers.get("content-security-policy"), path).toBe(PAGE_CSP);
      expect(r.headers.get("referrer-policy"), path).toBe("no-referrer");
    }
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).not.toContain("unsafe-inline");
    const js = await get(`/jobs/assets/${ASSETS.js.name}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toBe(ASSETS.js.body);
    expect((await get("/jobs/assets/page-000000000000.js")).status).toBe(404);
    const html = await (await get(`/jobs/${pageToken(key, done)}`)).text();
    // No inline script or style, and nothing fetched from another site.
    expect(html.match(/<script[^>]*>/g)).toEqual([`<script src="assets/${ASSETS.js.name}" defer>`]);
    expect(html).not.toMatch(/<style|\sstyle="|\son[a-z]+="/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\/(?!github\.com\/acme\/)/);
  });
});

describe("the page's token", () => {
  it.for([
    { name: "forged (random signature)", path: () => `/jobs/${pageToken(key, done).split(".")[0]}.${"A".repeat(43)}`, want: 404 },
    { name: "signed with another secret", path: () => `/jobs/${pageToken(derivePageKey("another-secret-0123456789"), done)}`, want: 404 },
    {
      name: "tampered to name another job",
      path: () => {
        const [, mac] = pageToken(key, done).split(".");
        return `/jobs/${Buffer.from(JSON.stringify({ jobId: midway.jobId, exp: done.expiresAt })).toString("base64url")}.${mac}`;
      },
      want: 404,
    },
    { name: "an artifact link's token", path: () => `/jobs/${Buffer.from(JSON.stringify({ jobId: done.jobId, key: "diffs/x", exp: done.expiresAt })).toString("base64url")}.${"B".repeat(43)}`, want: 404 },
    { name: "expired with its job", path: () => `/jobs/${pageToken(key, { jobId: done.jobId, expiresAt: Math.floor(Date.now() / 1000) - 60 })}`, want: 410 },
    { name: "valid for a job the store no longer has", path: () => `/jobs/${pageToken(key, { jobId: "j-gone000000", expiresAt: done.expiresAt })}`, want: 410 },
    { name: "path traversal", path: () => `/jobs/..%2f..%2flinks%2fx`, want: 404 },
    { name: "encoded dots", path: () => `/jobs/%2e%2e`, want: 404 },
    { name: "traversal after a valid token", path: () => `/jobs/${pageToken(key, done)}%2f..%2f${pageToken(key, midway)}`, want: 404 },
    { name: "malformed escapes", path: () => `/jobs/%E0%A4%A.%ZZ`, want: 404 },
    { name: "empty", path: () => `/jobs/.json`, want: 404 },
    { name: "assets traversal", path: () => `/jobs/assets/..%2f..%2fpackage.json`, want: 404 },
  ])("refuses a token $name with $want and no stack trace", async (tc) => {
    const r = await get(tc.path());
    expect(r.status).toBe(tc.want);
    const body = await r.text();
    expect(body).not.toMatch(/Error|at .*\.ts|node:|\/work\//);
    expect(body).not.toContain(done.name);
  });

  it("opens only the job it names: another job's token shows that job and nothing of this one", async () => {
    const html = await (await get(`/jobs/${pageToken(key, midway)}`)).text();
    expect(html).toContain(midway.jobId);
    expect(html).not.toContain(done.jobId);
  });
});

describe("hostile content", () => {
  it("shows names, reasons, summaries, diffs and conversations holding markup as text, and redacts secrets", async () => {
    const ghToken = `ghp_${"x".repeat(36)}`;
    const job = await seedCampaign(stack, {
      jobId: "j-webhostile",
      n: 4,
      phase: "done",
      hostile: {
        name: `<script>alert("name")</script> & "quotes"`,
        repo: "acme/x",
        reason: `"><img src=x onerror=alert(1)>`,
        summary: `</td></tr><script>alert("summary")</script> token ${ghToken} and ${SECRET}`,
        diffLine: `<script>alert("diff")</script><!--`,
      },
    });
    const token = pageToken(key, job);
    const page = await (await get(`/jobs/${token}`)).text();
    const repo = await (await get(`/jobs/${token}?repo=acme%2Fx`)).text();
    const json = await (await get(`/jobs/${token}.json`)).text();
    for (const html of [page, repo]) {
      expect(html).not.toMatch(/<script>alert|<img src=x|<!--/);
      expect(html.match(/<script/g)).toHaveLength(1);
      expect(html).not.toContain(ghToken);
      expect(html).not.toContain(SECRET);
    }
    expect(page).toContain("&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;");
    expect(repo).toMatch(/&lt;script&gt;alert\(<span class="tok-str">&quot;diff&quot;<\/span>\)&lt;\/script&gt;&lt;!--/);
    expect(repo).toContain("&lt;/td&gt;&lt;/tr&gt;&lt;script&gt;");
    expect(page + repo + json).toContain("[REDACTED]");
    expect(json).not.toContain(ghToken);
  });
});

describe("the page on Lambda", () => {
  it("serves the page, its JSON and its assets through the bot's Lambda handler, and refuses bad tokens", async () => {
    const { startFakeSlack } = await import("./fakes/slack.ts");
    const { newLambdaHandler } = await import("../bot/lambda.ts");
    const { newTell } = await import("../bot/app.ts");
    const { newSlackClient, newSlackNotifierFromConfig } = await import("../bot/slack-notifier.ts");
    const { loadConfig } = await import("../core/config/index.ts");
    const slack = await startFakeSlack();
    try {
      const config = loadConfig({ ...stack.env, SLACK_BOT_TOKEN: slack.token, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, ALLOWED_REPOSITORIES: "acme/*" });
      const client = newSlackClient(config);
      const deps = {
        store: stack.store,
        artifacts: stack.artifacts,
        launcher: { submit: async () => ({ batchJobId: "b" }), cancel: async () => undefined },
        notifier: newSlackNotifierFromConfig(config, stack.log, { client, artifacts: stack.artifacts }),
        expandOwner: async () => [],
        settings: { allowlist: config.allowlist, allowedSlackUsers: [], allowedScriptUsers: [] },
        tell: newTell(client, stack.log),
        log: stack.log,
        deferred: async () => undefined,
      };
      const page = { pageKey: key, store: stack.store, artifacts: stack.artifacts, secrets: [SECRET], log: stack.log };
      const handler = newLambdaHandler({ deps, token: slack.token, signingSecret: SECRET, artifacts: stack.artifacts, log: stack.log, page });
      const event = (path: string, query = "") => ({
        version: "2.0",
        routeKey: "GET /jobs/{token}",
        rawPath: path,
        rawQueryString: query,
        headers: { host: "api.example" },
        requestContext: { http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "1.2.3.4", userAgent: "test" }, requestId: "r1" },
        isBase64Encoded: false,
      });
      type R = { statusCode: number; headers?: Record<string, string>; body: string };
      const token = pageToken(key, done);
      const html = (await handler(event(`/jobs/${token}`) as never, {})) as R;
      expect(html.statusCode).toBe(200);
      expect(html.headers?.["content-security-policy"]).toBe(PAGE_CSP);
      expect(html.body).toContain('<table class="repos" id="repos">');
      const json = (await handler(event(`/jobs/${token}.json`) as never, {})) as R;
      expect(JSON.parse(json.body).job.jobId).toBe(done.jobId);
      const repo = (await handler(event(`/jobs/${token}`, "repo=acme%2Fservice-00") as never, {})) as R;
      expect(repo.body).toContain('class="diff-file"');
      expect(((await handler(event(`/jobs/assets/${ASSETS.css.name}`) as never, {})) as R).statusCode).toBe(200);
      expect(((await handler(event(`/jobs/${token.slice(0, -2)}xx`) as never, {})) as R).statusCode).toBe(404);
      expect(((await handler(event("/jobs/%E0%A4%A") as never, {})) as R).statusCode).toBe(404);
    } finally {
      await slack.close();
    }
  });
});

describe("ways in", () => {
  it("puts an Open dashboard link button on the Slack root message when the bot has a public URL", async () => {
    const { rootMessage, DASHBOARD_ACTION } = await import("../bot/messages/root.ts");
    const { dashboardUrlOf } = await import("../bot/web/page-wiring.ts");
    const url = dashboardUrlOf({ linkSecret: SECRET, botPublicUrl: "https://bot.example/" })!(done);
    expect(url).toBe(`https://bot.example/jobs/${pageToken(key, done)}`);
    const msg = rootMessage(done, new Date(), { dashboardUrl: url });
    expect(msg.blocks.at(-1)).toEqual({ type: "actions", block_id: "dashboard", elements: [{ type: "button", action_id: DASHBOARD_ACTION, text: { type: "plain_text", text: "Open dashboard" }, url }] });
    expect(JSON.stringify(rootMessage(done, new Date()).blocks)).not.toContain("Open dashboard");
    expect(dashboardUrlOf({ linkSecret: SECRET, botPublicUrl: undefined })).toBeUndefined();
  });
});

describe("cody web and cody status", () => {
  const cliEnv = () => ({ ...process.env, ...stack.env, LINK_SIGNING_SECRET: SECRET, LOG_LEVEL: "silent" });

  it("serves the page on 127.0.0.1 until interrupted, and cody status ends with the same URL", async () => {
    const { spawn } = await import("node:child_process");
    const { resolve } = await import("node:path");
    const child = spawn(process.execPath, [resolve(import.meta.dirname, "..", "scripts", "cody.mjs"), "web", done.jobId, "--port", "0"], { env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((ok) => child.on("close", ok));
    const url = await new Promise<string>((ok, fail) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) ok(out.split("\n")[0]!);
      });
      child.on("close", () => fail(new Error(`cody web exited before printing a URL: ${out}`)));
    });
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/jobs/${pageToken(key, done).replace(/[.]/g, "\\.")}$`));
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain(done.name);
    child.kill("SIGINT");
    expect(await exited).toBe(0);

    const { runCli } = await import("./support/cli.ts");
    const status = await runCli(["status", done.jobId], cliEnv());
    expect(status.stdout.trimEnd().split("\n").at(-1)).toBe(`page: http://127.0.0.1:8787/jobs/${pageToken(key, done)}   (served by: cody web ${done.jobId})`);
    const deployed = await runCli(["web", done.jobId], { ...cliEnv(), BOT_PUBLIC_URL: "https://bot.example" });
    expect(deployed).toMatchObject({ code: 0, stdout: `https://bot.example/jobs/${pageToken(key, done)}\n` });
  });

  it.for([
    { name: "no job id", args: ["web"], want: "web needs one job id" },
    { name: "an unknown job", args: ["web", "j-nosuchjob0"], want: "no job j-nosuchjob0" },
    { name: "a bad port", args: ["web", "j-nosuchjob0", "--port", "http"], want: '--port takes a port number, got "http"' },
  ])("refuses $name with exit 2", async (tc) => {
    const { runCli } = await import("./support/cli.ts");
    const r = await runCli(tc.args, cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(tc.want);
  });
});

describe("the page on the bot's HTTP receiver", () => {
  it("serves /jobs/<token>, its JSON and its assets through Bolt's custom routes", async () => {
    const { HTTPReceiver } = await import("@slack/bolt");
    const { httpRoutes } = await import("../bot/app.ts");
    const page = { pageKey: key, store: stack.store, artifacts: stack.artifacts, secrets: [SECRET], log: stack.log };
    const receiver = new HTTPReceiver({ signingSecret: SECRET, customRoutes: httpRoutes({ artifacts: stack.artifacts, log: stack.log, page }) });
    receiver.init({ processEvent: async () => undefined } as never);
    const server = (await receiver.start(0)) as import("node:http").Server;
    try {
      const base = `http://127.0.0.1:${(server.address() as import("node:net").AddressInfo).port}`;
      const token = pageToken(key, midway);
      const html = await fetch(`${base}/jobs/${token}`);
      expect(html.status).toBe(200);
      expect(html.headers.get("content-security-policy")).toBe(PAGE_CSP);
      expect(await html.text()).toContain(midway.jobId);
      expect(JSON.parse(await (await fetch(`${base}/jobs/${token}.json`)).text()).job.jobId).toBe(midway.jobId);
      expect((await fetch(`${base}/jobs/assets/${ASSETS.css.name}`)).status).toBe(200);
      expect((await fetch(`${base}/jobs/${token}x`)).status).toBe(404);
    } finally {
      await receiver.stop();
    }
  });
});
