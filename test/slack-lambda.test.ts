/**
 * The Lambda entry: signed Function-URL events through Bolt's AwsLambdaReceiver, the deferred
 * self-invocation (real Lambda client against an in-process Invoke endpoint), and the link and
 * health routes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { newArtifacts } from "../core/jobs/index.ts";
import { loadConfig, type Config } from "../core/config/index.ts";
import type { Job } from "../core/jobs/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { newStore, type Store } from "../core/jobs/index.ts";
import { newSlackClient, newSlackNotifierFromConfig } from "../bot/slack-notifier.ts";
import { EmbeddedStack } from "../environment/index.ts";
import { newTell, type BotDeps } from "../bot/app.ts";
import { jobIdForView, type DeferredTask } from "../bot/jobs.ts";
import { newLambdaDeferred, newLambdaHandler, type LambdaHandler } from "../bot/lambda.ts";
import { deriveLinkKey, signLink } from "../bot/links.ts";
import { signSlackRequest, startFakeSlack, type FakeSlack } from "./fakes/slack.ts";

const SECRET = "lambda-signing-secret-0123456789";
const log = newLogger({ level: "silent" });
let stack: EmbeddedStack;
let config: Config;
let store: Store;
let slack: FakeSlack;
let handler: LambdaHandler;
const tasks: DeferredTask[] = [];
const launched: Job[] = [];

beforeAll(async () => {
  stack = await EmbeddedStack.start({ inMemory: true, env: {} });
  slack = await startFakeSlack();
  config = loadConfig({ ...stack.env, SLACK_BOT_TOKEN: slack.token, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, ALLOWED_REPOSITORIES: "acme/*" });
  store = newStore(config);
  const artifacts = newArtifacts(config);
  const client = newSlackClient(config, { retryConfig: { retries: 2, minTimeout: 1, maxTimeout: 5 } });
  const deps: BotDeps = {
    store,
    artifacts,
    launcher: { submit: async (job) => (launched.push(job), { batchJobId: "batch-1" }), cancel: async () => undefined },
    notifier: newSlackNotifierFromConfig(config, log, { client, artifacts, replyWindowMs: 1 }),
    expandOwner: async () => [],
    settings: { allowlist: config.allowlist, allowedSlackUsers: [], allowedScriptUsers: ["UDANA"] },
    tell: newTell(client, log),
    log,
    deferred: async (task) => void tasks.push(task),
  };
  handler = newLambdaHandler({ deps, token: slack.token, signingSecret: SECRET, apiUrl: slack.apiUrl, linkKey: deriveLinkKey(SECRET), artifacts, log });
});

afterAll(async () => {
  await slack?.close();
  await stack?.stop();
});

/** A Function URL (payload 2.0) event for a POST to /slack/events. */
function functionUrlEvent(body: string, headers: Record<string, string>, method = "POST", path = "/slack/events") {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/x-www-form-urlencoded", host: "abc.lambda-url.us-east-1.on.aws", ...headers },
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "1.2.3.4", userAgent: "Slackbot" }, requestId: "r1" },
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
  };
}

const help = new URLSearchParams({ command: "/cody", text: "help", user_id: "UDANA", channel_id: "C1", team_id: "T1", trigger_id: "t", token: "x" }).toString();

describe("lambda handler", () => {
  it("answers a signed Function-URL event with 200", async () => {
    const r = (await handler(functionUrlEvent(help, signSlackRequest(SECRET, help)), {})) as { statusCode: number; body: string };
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ response_type: "ephemeral", text: expect.stringContaining("/cody list") });
  });

  it("rejects a wrongly signed event with 401", async () => {
    const r = (await handler(functionUrlEvent(help, signSlackRequest("wrong-secret-00000000", help)), {})) as { statusCode: number };
    expect(r.statusCode).toBe(401);
  });

  it("acknowledges a submission, then creates the job in the deferred invocation", async () => {
    const payload = JSON.stringify({
      type: "view_submission", team: { id: "T1" }, user: { id: "UDANA", team_id: "T1" }, api_app_id: "A1", token: "x",
      view: {
        id: "VLAMBDA", team_id: "T1", callback_id: "cody_job_modal", private_metadata: JSON.stringify({ channel: "C1", teamId: "T1" }),
        state: { values: {
          type: { value: { type: "radio_buttons", selected_option: { value: "script" } } },
          instructions: { value: { type: "plain_text_input", value: "sed -i s/a/b/ README.md" } },
          repositories: { value: { type: "plain_text_input", value: "acme/a\nacme/b" } },
        } },
      },
    });
    const body = new URLSearchParams({ payload }).toString();
    const r = (await handler(functionUrlEvent(body, signSlackRequest(SECRET, body)), {})) as { statusCode: number; body: string };
    expect(r.statusCode).toBe(200);
    expect(tasks).toHaveLength(1);
    expect(await store.getJob(jobIdForView("VLAMBDA"))).toBeUndefined();

    expect(await handler({ codyTask: JSON.parse(JSON.stringify(tasks[0])) as DeferredTask }, {})).toEqual({ ok: true });
    const job = await store.getJob(jobIdForView("VLAMBDA"));
    expect(job).toMatchObject({ type: "script", repositories: ["acme/a", "acme/b"], batchJobId: "batch-1" });
    expect(launched).toHaveLength(1);
  });

  it("serves /health and stable links", async () => {
    const health = (await handler(functionUrlEvent("", {}, "GET", "/health"), {})) as { statusCode: number };
    expect(health.statusCode).toBe(200);
    const token = signLink(deriveLinkKey(SECRET), { jobId: "j-1", key: "diffs/j-1/acme/a.diff", exp: Math.floor(Date.now() / 1000) + 60 });
    const link = (await handler(functionUrlEvent("", {}, "GET", `/links/${token}`), {})) as { statusCode: number; headers: Record<string, string> };
    expect(link.statusCode).toBe(302);
    expect(link.headers.location).toContain("diffs/j-1/acme/a.diff");
  });
});

describe("lambda deferred", () => {
  let server: Server;
  const seen: { path: string; type: string | undefined; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ path: req.url ?? "", type: req.headers["x-amz-invocation-type"] as string | undefined, body });
        res.writeHead(202, { "content-type": "application/json" });
        res.end("");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));

  it("invokes the function asynchronously with the task", async () => {
    const client = new LambdaClient({
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
    });
    const task: DeferredTask = { kind: "cancel_job", jobId: "j-1", userId: "UDANA" };
    await newLambdaDeferred(client, "cody-bot")(task);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe("/2015-03-31/functions/cody-bot/invocations");
    expect(seen[0]!.type).toBe("Event");
    expect(JSON.parse(seen[0]!.body)).toEqual({ codyTask: task });
  });
});
