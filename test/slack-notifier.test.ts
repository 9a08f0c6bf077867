/**
 * The Slack notifier over the real WebClient against the fake Slack Web API, and over dynalite
 * for cross-runner reply grouping. Each "runner" gets its own notifier and WebClient, as separate
 * processes would.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { WebClient } from "@slack/web-api";
import { loadConfig, type Config } from "../core/config/index.ts";
import { newJobRows, type Job, type RepoRow, type RepoStatus } from "../core/jobs/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { newDynamoClient, newStore, type Store } from "../core/jobs/index.ts";
import { newSlackClient, newSlackNotifier, type SlackNotifier } from "../bot/slack-notifier.ts";
import { EmbeddedStack } from "../environment/index.ts";
import { startFakeSlack, type FakeSlack } from "./fakes/slack.ts";

const log = newLogger({ level: "silent" });
let stack: EmbeddedStack;
let config: Config;
let store: Store;
let slack: FakeSlack;
let seq = 0;

beforeAll(async () => {
  stack = await EmbeddedStack.start({ inMemory: true, env: {} });
  config = loadConfig({ ...stack.env, SLACK_BOT_TOKEN: "xoxb-test-token" });
  store = newStore(config);
});
afterAll(async () => stack.stop());
afterEach(async () => slack?.close());

const fastRetry = { retries: 20, factor: 1, minTimeout: 1, maxTimeout: 5 };

function notifier(client: WebClient, windows: { replyWindowMs?: number; rootIntervalMs?: number; claimLeaseMs?: number } = {}): SlackNotifier {
  const dynamo = newDynamoClient(config);
  return newSlackNotifier({
    client,
    doc: DynamoDBDocumentClient.from(dynamo),
    tables: { jobsTable: config.jobsTable, reposTable: config.reposTable },
    store,
    links: async (job, key) => `https://bot.example.com/links/${job.jobId}/${key}`,
    log,
    replyWindowMs: windows.replyWindowMs ?? 40,
    rootIntervalMs: windows.rootIntervalMs ?? 60_000,
    ...(windows.claimLeaseMs !== undefined ? { claimLeaseMs: windows.claimLeaseMs } : {}),
  });
}

function client(): WebClient {
  return newSlackClient({ slack: { botToken: slack.token, apiUrl: slack.apiUrl } }, { retryConfig: fastRetry });
}

/** Creates a job with `n` repositories and its thread root; returns the job with its thread. */
async function jobWith(n: number, n0: SlackNotifier, channel = "C1"): Promise<Job> {
  const repositories = Array.from({ length: n }, (_, i) => `acme/repo-${String(i).padStart(4, "0")}`);
  const { job, repos } = newJobRows(`j-notif${++seq}`, {
    name: "Migrate fetchJson",
    type: "code-pattern-update",
    prompt: "Replace fetchJson with http.get",
    repositories,
    createdBy: "UDANA",
    slack: { teamId: "T1", channel },
  }, new Date());
  await store.createJob(job, repos);
  const thread = await n0.jobCreated(job);
  expect(thread?.threadTs).toBeTruthy();
  await store.setJobFields(job.jobId, { slack: thread! });
  return { ...job, slack: thread! };
}

const OUTCOMES: { status: RepoStatus; fields: Partial<RepoRow> }[] = [
  { status: "COMPLETED", fields: { diffKey: "x", diffStats: { files: 4, additions: 38, deletions: 21 }, prUrl: "https://github.com/acme/pr/412", prNumber: 412 } },
  { status: "NO_CHANGES", fields: {} },
  { status: "FAILED", fields: { error: "verify failed: 2 tests failing" } },
];

/** Ends a PENDING repository row through the store, as a runner does. */
async function endRepo(jobId: string, repositoryName: string, status: RepoStatus, fields: Partial<RepoRow>): Promise<void> {
  const row = (await store.getRepo(jobId, repositoryName))!;
  expect(await store.finishRepo(row, ["PENDING"], status, fields)).toBe(true);
}

/** Ends repository `i` the way a runner does (store first, then the notifier). */
async function finish(job: Job, i: number, n: SlackNotifier): Promise<void> {
  const repo = job.repositories[i]!;
  const o = OUTCOMES[i % OUTCOMES.length]!;
  const fields = o.fields.diffKey ? { ...o.fields, diffKey: `diffs/${job.jobId}/${repo}.diff` } : o.fields;
  await endRepo(job.jobId, repo, o.status, fields);
  const row = (await store.getRepo(job.jobId, repo))!;
  await n.repoFinished({ job, repo: row });
  await n.progress(job);
}

async function finalize(job: Job, n: SlackNotifier): Promise<void> {
  const done = await store.finalizeIfDone(job.jobId, new Date());
  expect(done).toBeDefined();
  await n.jobFinished(done!);
}

/** Every repository named in the thread's replies, with how often. */
function reported(job: Job): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of slack.replies(job.slack!.channel, job.slack!.threadTs!)) {
    for (const b of m.blocks as { text?: { text?: string } }[]) {
      const name = /\*(acme\/[^*]+)\*/.exec(b.text?.text ?? "")?.[1];
      if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  return counts;
}

describe("slack notifier", () => {
  it("follows the job in a DM to its creator, saying why, when Slack refuses even a plain root", async () => {
    slack = await startFakeSlack();
    const n = notifier(client());
    slack.refuseBlocks("chat.postMessage", "msg_too_long", 2, { channel: "C1", evenWithoutBlocks: true });
    const job = await jobWith(1, n);
    expect(job.slack).toMatchObject({ channel: "UDANA" });
    const dm = slack.messages.filter((m) => m.channel === "UDANA");
    expect(dm[0]!.text).toContain("(`msg_too_long`)");
    expect(dm[1]!.blocks?.length).toBeGreaterThan(0);
  });

  it("posts replies and the root as plain text when Slack refuses their blocks (invalid_blocks)", async () => {
    slack = await startFakeSlack();
    const n = notifier(client(), { replyWindowMs: 1 });
    const job = await jobWith(2, n);
    slack.refuseBlocks("chat.postMessage", "invalid_blocks");
    slack.refuseBlocks("chat.update", "invalid_blocks");
    await endRepo(job.jobId, "acme/repo-0000", "FAILED", { error: "verify failed: <!channel>" });
    await endRepo(job.jobId, "acme/repo-0001", "NO_CHANGES", {});
    await finalize(job, n);
    const replies = slack.replies(job.slack!.channel, job.slack!.threadTs!);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.blocks).toBeUndefined();
    expect(replies[0]!.text).toContain("*acme/repo-0000* — verify failed: &lt;!channel&gt;");
    expect(replies[0]!.text).toContain("acme/repo-0001");
    const root = slack.messages.find((m) => m.ts === job.slack!.threadTs)!;
    expect(root.updates).toBe(1);
    expect(root.text).toContain("finished");
    // Nothing is left to post: a later flush finds every row reported.
    const rows = await store.listRepos(job.jobId);
    expect(rows.every((r) => String((r as RepoRow & { reportedAt?: string }).reportedAt).startsWith("posted:"))).toBe(true);
  });

  it("reports rows a killed process had claimed but never posted, once their claim is stale, and leaves a live claim alone", async () => {
    slack = await startFakeSlack();
    const n = notifier(client(), { claimLeaseMs: 60_000 });
    const job = await jobWith(3, n);
    for (let i = 0; i < 3; i++) await endRepo(job.jobId, `acme/repo-000${i}`, "COMPLETED", {});
    // repo-0000: claimed ten minutes ago by a runner that died before posting; repo-0001: claimed
    // a moment ago by a runner still posting; repo-0002: nobody has claimed it yet.
    const doc = DynamoDBDocumentClient.from(newDynamoClient(config));
    const claim = (repo: string, ms: number) =>
      doc.send(
        new UpdateCommand({
          TableName: config.reposTable,
          Key: { jobId: job.jobId, repositoryName: repo },
          UpdateExpression: "SET reportedAt = :c",
          ExpressionAttributeValues: { ":c": `claim:${String(ms).padStart(13, "0")}:someone` },
        }),
      );
    await claim("acme/repo-0000", Date.now() - 600_000);
    await claim("acme/repo-0001", Date.now() - 1_000);
    await finalize(job, n);
    const counts = reported(job);
    expect(counts.get("acme/repo-0000")).toBe(1);
    expect(counts.get("acme/repo-0002")).toBe(1);
    expect(counts.has("acme/repo-0001")).toBe(false);
    // Posted rows are marked, so a later flush does not post them again.
    const row = await store.getRepo(job.jobId, "acme/repo-0000");
    expect((row as RepoRow & { reportedAt?: string }).reportedAt).toMatch(/^posted:/);
  });

  it("posts one reply per repository when they end apart, and a final root update", async () => {
    slack = await startFakeSlack();
    const n = notifier(client());
    const job = await jobWith(5, n);
    for (let i = 0; i < 5; i++) await finish(job, i, n);
    await finalize(job, n);
    const replies = slack.replies("C1", job.slack!.threadTs!);
    expect(replies).toHaveLength(5);
    expect(replies.map((r) => r.blocks!.length)).toEqual([1, 1, 1, 1, 1]);
    expect(replies[0]!.blocks![0]).toMatchObject({
      text: { text: expect.stringContaining("✅ *acme/repo-0000* — 4 files, +38 −21 · <https://bot.example.com/links/") },
    });
    // One diff affordance per reply (issue 21): the link, and no View diff button beside it.
    expect(replies[0]!.blocks![0]).not.toHaveProperty("accessory");
    expect((replies[2]!.blocks![0] as { text: { text: string } }).text.text).toContain("❌ *acme/repo-0002* — verify failed: 2 tests failing");
    const root = slack.messages.find((m) => m.ts === job.slack!.threadTs)!;
    const rootText = JSON.stringify(root.blocks);
    expect(rootText).toContain("5 / 5");
    expect(rootText).toContain("finished with failures");
    expect(rootText).not.toContain("cancel_job");
  });

  it("groups repositories that end within the same window into one reply", async () => {
    slack = await startFakeSlack();
    const runners = Array.from({ length: 8 }, () => notifier(client(), { replyWindowMs: 300 }));
    const job = await jobWith(8, runners[0]!);
    await Promise.all(runners.map((r, i) => finish(job, i, r)));
    const replies = slack.replies("C1", job.slack!.threadTs!);
    expect(replies.length).toBeLessThan(3);
    expect([...reported(job).values()]).toEqual(Array(8).fill(1));
  });

  it("delivers every reply exactly once when 30 % of Slack calls answer 429 and some 500", async () => {
    slack = await startFakeSlack();
    const runners = Array.from({ length: 30 }, () => notifier(client(), { replyWindowMs: 20, rootIntervalMs: 10 }));
    const job = await jobWith(30, runners[0]!);
    slack.setFractions({ rateLimitFraction: 0.3, serverErrorFraction: 0.05 });
    await Promise.all(runners.map(async (r, i) => {
      await new Promise((res) => setTimeout(res, (i % 6) * 15));
      await finish(job, i, r);
    }));
    await finalize(job, runners[0]!);
    expect(slack.calls.some((c) => c.status === 429)).toBe(true);
    const counts = reported(job);
    expect(counts.size).toBe(30);
    expect([...counts.values()].every((v) => v === 1)).toBe(true);
    expect(slack.calls.filter((c) => c.error === "invalid_blocks")).toEqual([]);
  });

  it("keeps a 1000-repository job within Slack's message limits", async () => {
    slack = await startFakeSlack();
    const n = notifier(client(), { replyWindowMs: 1 });
    const job = await jobWith(1000, n);
    // Long failure reasons and long links must not break the 3000-character section limit.
    const longLinks = newSlackNotifier({
      client: client(),
      doc: DynamoDBDocumentClient.from(newDynamoClient(config)),
      tables: { jobsTable: config.jobsTable, reposTable: config.reposTable },
      store,
      links: async () => `https://s3.example.com/${"x".repeat(1800)}`,
      log,
      replyWindowMs: 1,
    });
    const rows = await store.listRepos(job.jobId);
    for (let i = 0; i < rows.length; i += 50) {
      await Promise.all(rows.slice(i, i + 50).map((r, k) =>
        endRepo(job.jobId, r.repositoryName, k % 2 ? "FAILED" : "COMPLETED", k % 2
          ? { error: "e".repeat(5000) }
          : { diffKey: `diffs/${job.jobId}/${r.repositoryName}.diff`, transcriptKey: `threads/${job.jobId}/${r.repositoryName}.json`, diffStats: { files: 1, additions: 1, deletions: 1 } }),
      ));
    }
    await finalize(job, longLinks);
    expect(slack.calls.filter((c) => c.error)).toEqual([]);
    const replies = slack.replies("C1", job.slack!.threadTs!);
    expect(replies).toHaveLength(20);
    expect(replies.every((r) => r.blocks!.length <= 50)).toBe(true);
    expect(reported(job).size).toBe(1000);
    void n;
  });

  it("coalesces root updates to one per interval", async () => {
    slack = await startFakeSlack();
    const n = notifier(client(), { rootIntervalMs: 60_000 });
    const job = await jobWith(3, n);
    for (let i = 0; i < 10; i++) await n.progress(job);
    const root = slack.messages.find((m) => m.ts === job.slack!.threadTs)!;
    expect(root.updates).toBe(1);
  });

  it("sends a DM saying how to invite the bot when it cannot post in the channel", async () => {
    slack = await startFakeSlack({ notInChannels: ["CPRIVATE"] });
    const n = notifier(client());
    const { job, repos } = newJobRows(`j-notif${++seq}`, {
      name: "x", type: "script", script: "true", repositories: ["acme/a"], createdBy: "UDANA", slack: { teamId: "T1", channel: "CPRIVATE" },
    }, new Date());
    await store.createJob(job, repos);
    const thread = await n.jobCreated(job);
    expect(thread).toMatchObject({ channel: "UDANA" });
    const dm = slack.messages.filter((m) => m.channel === "UDANA");
    expect(dm[0]!.text).toContain("/invite @Cody Batch");
    expect(dm[1]!.ts).toBe(thread!.threadTs);
  });
});
