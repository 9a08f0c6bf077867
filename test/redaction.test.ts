/**
 * Attack: a script or verify command prints a secret it got hold of in an encoded form, so that
 * the failure reason carries it into the repository row, `cody status` and the Slack reply.
 * Real runner (runRepo), dynalite/s3rver, the Slack notifier over the fake Slack Web API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newJobId, newJobRows, validateJobRequest, type JobRequest } from "../core/jobs/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { newSlackClient, newSlackNotifierFromConfig } from "../bot/slack-notifier.ts";
import { runRepo } from "../runner/run-repo.ts";
import { startFakeSlack, type FakeSlack } from "./fakes/slack.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

// A known secret of no recognisable shape: only the known-value rules can catch it.
const SECRET = "Opaque-Installation-Secret-0123456789";
const OTHER = "unknown0value9of8another7credential";
let stack: TestStack;
let remotes: TestRemotes;
let slack: FakeSlack;
let workDir: string;
const logLines: string[] = [];

beforeAll(async () => {
  remotes = tempRemotes();
  slack = await startFakeSlack();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl });
  workDir = mkdtempSync(join(tmpdir(), "cody-redaction-"));
  remotes.make("acme/leaky", { "a.txt": "1\n" });
});
afterAll(async () => {
  await stack?.stop();
  await slack?.close();
  remotes?.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

const enc = {
  base64: `printf '%s' '${SECRET}' | base64`,
  hex: `printf '%s' '${SECRET}' | od -An -tx1 | tr -d ' \\n'`,
  base64url: `printf 'x%s' '${SECRET}' | base64 | tr '+/' '-_' | tr -d '='`,
};

describe("a failure reason never carries a secret, encoded or not", () => {
  it.for([
    { name: "a script printing it base64-encoded", request: { type: "script", script: `${enc.base64}; exit 1` } },
    { name: "a script printing it hex-encoded", request: { type: "script", script: `${enc.hex}; exit 1` } },
    { name: "a verify command printing it base64url-encoded", request: { type: "script", script: "echo 2 > a.txt", verify: `${enc.base64url}; exit 1` } },
    // Not a known secret: caught by its shape.
    { name: "a script printing a credentialed URL", request: { type: "script", script: `echo "https://x-access-token:${OTHER}@ghe.example.com/acme/a.git"; exit 1` } },
  ] as Array<{ name: string; request: Omit<JobRequest, "createdBy" | "repositories"> }>)("$name", async (tc) => {
    logLines.length = 0;
    const log = newLogger({ level: "info", secrets: [SECRET] }, { write: (s: string) => void logLines.push(s) });
    const checked = validateJobRequest({ ...tc.request, repositories: ["acme/leaky"], createdBy: "UDANA", slack: { teamId: "T1", channel: "C1" } }, "any");
    if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
    const jobId = newJobId();
    const { job, repos } = newJobRows(jobId, checked.request, new Date());
    await stack.store.createJob(job, repos);
    const client = newSlackClient(stack.config, { retryConfig: { retries: 1, minTimeout: 1, maxTimeout: 2 } });
    const notifier = newSlackNotifierFromConfig(stack.config, log, { client, artifacts: stack.artifacts, store: stack.store, replyWindowMs: 1 });
    const thread = await notifier.jobCreated(job);
    await stack.store.setJobFields(jobId, { slack: thread! });
    const settings = { gitBaseUrl: remotes.gitBaseUrl, scriptTimeoutSeconds: 20, maxAttempts: 1, heartbeatSeconds: 5, workDir, secrets: [SECRET] };
    expect(await runRepo({ store: stack.store, artifacts: stack.artifacts, notifier, log, settings }, { jobId, index: 0 }, new AbortController().signal)).toBe(0);

    const row = (await stack.store.listRepos(jobId))[0]!;
    expect(row.status).toBe("FAILED");
    expect(row.error).toMatch(/exited with code 1/);
    expect(row.error).toContain("[REDACTED]");
    const replies = slack.replies(thread!.channel, thread!.threadTs!);
    expect(replies).toHaveLength(1);
    const seen = [row.error!, JSON.stringify(replies), logLines.join("")].join("\n");
    const forms = [SECRET, Buffer.from(SECRET).toString("base64").slice(0, 24), Buffer.from(SECRET).toString("hex").slice(0, 24), Buffer.from(`x${SECRET}`).toString("base64url").slice(4, 28), OTHER];
    for (const f of forms) expect(seen).not.toContain(f);
  });
});
