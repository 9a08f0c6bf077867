/**
 * GitHub webhooks on the bot's HTTP receiver: a signed `pull_request` delivery refreshes the row
 * of that PR from the GitHub fake; a badly signed or unsigned one is refused with 401 and
 * changes nothing.
 */
import { createHmac } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HTTPReceiver } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/config/index.ts";
import { newJobRows } from "../core/jobs/index.ts";
import { httpRoutes, newBoltApp } from "../bot/app.ts";
import { githubWebhookOf } from "../bot/wiring.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const WEBHOOK_SECRET = "webhook-secret-0123456789";
const TOKEN = "ghp_" + "w".repeat(36);
const JOB = "j-webhook001";
let stack: TestStack;
let github: FakeGitHub;
let server: Server;
let base: string;
const changed: string[] = [];

beforeAll(async () => {
  github = await startFakeGitHub({ tokens: [TOKEN] });
  stack = await startTestStack({ GITHUB_API_URL: github.url, GITHUB_TOKEN: TOKEN, GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET });
  const config = loadConfig(stack.env);
  github.addRepo("acme/hooked");
  github.setBranch("acme/hooked", `cody/${JOB}`, "d".repeat(40));
  github.pulls("acme/hooked").push({ number: 7, title: "t", body: null, head: `cody/${JOB}`, base: "main", draft: false, state: "open", labels: [], requestedReviewers: [], requestedTeams: [], assignees: [] });
  const { job, repos } = newJobRows(JOB, { name: "x", type: "script", script: "true", repositories: ["acme/hooked"], createPullRequests: true, createdBy: "U" }, new Date());
  await stack.store.createJob(job, repos);
  await stack.store.finishRepo(repos[0]!, ["PENDING"], "COMPLETED", { prNumber: 7, prUrl: "https://github.test/acme/hooked/pull/7" });
  const githubWebhook = githubWebhookOf(config, stack.log, { store: stack.store, onChanged: async (id) => void changed.push(id) })!;
  const receiver = new HTTPReceiver({ signingSecret: "slack-secret-0123456789", customRoutes: httpRoutes({ artifacts: stack.artifacts, log: stack.log, githubWebhook }) });
  newBoltApp({ token: "xoxb-x", signingSecret: "slack-secret-0123456789", receiver }, { log: stack.log } as never);
  server = await receiver.start({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await github?.close();
  await stack?.stop();
});

const delivery = JSON.stringify({ action: "closed", number: 7, pull_request: { number: 7, merged: true, head: { ref: `cody/${JOB}` } }, repository: { full_name: "acme/hooked" } });
const sign = (body: string, secret = WEBHOOK_SECRET) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

async function deliver(body: string, signature?: string, event = "pull_request") {
  const r = await fetch(`${base}/github/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": event, ...(signature ? { "x-hub-signature-256": signature } : {}) },
    body,
  });
  return { status: r.status, text: await r.text() };
}

describe("GitHub webhooks", () => {
  it.for([
    { name: "badly signed", signature: sign(delivery, "not-the-secret-000") },
    { name: "unsigned", signature: undefined },
    { name: "signed for another body", signature: sign(`${delivery} `) },
  ])("refuses a $name delivery with 401 and changes nothing", async (tc) => {
    github.pulls("acme/hooked")[0]!.merged = true;
    const r = await deliver(delivery, tc.signature);
    expect(r.status).toBe(401);
    expect((await stack.store.getRepo(JOB, "acme/hooked"))!.pr).toBeUndefined();
    expect(changed).toEqual([]);
  });

  it("ignores a signed delivery for a branch of no job", async () => {
    const other = JSON.stringify({ action: "opened", pull_request: { head: { ref: "feature/x" } }, repository: { full_name: "acme/hooked" } });
    expect((await deliver(other, sign(other))).status).toBe(202);
  });

  it("refreshes the PR's row on a signed pull_request delivery and reports the change", async () => {
    const p = github.pulls("acme/hooked")[0]!;
    Object.assign(p, { state: "closed", merged: true, mergedAt: "2026-01-05T00:00:00Z" });
    const r = await deliver(delivery, sign(delivery));
    expect(r).toEqual({ status: 200, text: "ok\n" });
    expect((await stack.store.getRepo(JOB, "acme/hooked"))!.pr).toMatchObject({ number: 7, state: "merged" });
    expect((await stack.store.getJob(JOB))!.campaign).toMatchObject({ prs: 1, merged: 1, open: 0 });
    expect(changed).toEqual([JOB]);
  });
});
