/**
 * The watchdog as AWS runs it: the bot's Lambda handler receiving the EventBridge schedule event
 * sweeps recent unfinished jobs in the store (dynalite over HTTP).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newJobId, newJobRows, type RepoRow } from "../core/jobs/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { newConsoleNotifier } from "../core/jobs/index.ts";
import { newSlackClient } from "../bot/slack-notifier.ts";
import { newTell, type BotDeps } from "../bot/app.ts";
import { newLambdaHandler, type LambdaHandler } from "../bot/lambda.ts";
import { startFakeSlack, type FakeSlack } from "./fakes/slack.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const SECRET = "watchdog-signing-secret-0123456789";
let stack: TestStack;
let slack: FakeSlack;
let handler: LambdaHandler;

beforeAll(async () => {
  stack = await startTestStack();
  slack = await startFakeSlack();
  const client = newSlackClient({ slack: { botToken: slack.token, apiUrl: slack.apiUrl } }, { retryConfig: { retries: 0 } });
  const deps: BotDeps = {
    store: stack.store,
    artifacts: stack.artifacts,
    launcher: { submit: async () => ({ batchJobId: "batch-1" }), cancel: async () => undefined },
    notifier: newConsoleNotifier(stack.log),
    expandOwner: async () => [],
    settings: { allowlist: [], allowedSlackUsers: [] },
    tell: newTell(client, stack.log),
    log: stack.log,
    deferred: async () => undefined,
  };
  handler = newLambdaHandler({
    deps,
    token: slack.token,
    signingSecret: SECRET,
    apiUrl: slack.apiUrl,
    artifacts: stack.artifacts,
    log: stack.log,
    watchdog: { heartbeatSeconds: 30, maxAttempts: 3, pendingMinutes: 60 },
  });
});

afterAll(async () => {
  await slack?.close();
  await stack?.stop();
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
const scheduled = { version: "0", source: "aws.events" as const, "detail-type": "Scheduled Event", time: new Date().toISOString(), detail: {} };

async function newJob(repositories: string[], createdAt: Date): Promise<string> {
  const jobId = newJobId();
  const { job, repos } = newJobRows(jobId, { name: "x", type: "script", script: "true", repositories, createdBy: "test" }, createdAt);
  await stack.store.createJob(job, repos);
  return jobId;
}

async function claim(jobId: string, repo: string, at: Date, times = 1): Promise<RepoRow> {
  let row: RepoRow | undefined;
  for (let i = 0; i < times; i++) {
    const r = await stack.store.claimRepo(jobId, repo, { now: at, staleBefore: new Date(Date.now() + 1000) });
    if (r.kind !== "claimed") throw new Error(`claim ${repo}: ${r.kind}`);
    row = r.row;
  }
  return row!;
}

describe("the scheduled watchdog in the bot's Lambda", () => {
  it("fails dead runners and jobs that never started, leaves live and retryable work alone, and finalizes", async () => {
    // A job no runner ever touched, two hours old.
    const never = await newJob(["acme/n1", "acme/n2"], minutesAgo(120));
    // A job whose first repository's runner died three times (last heartbeat 10 minutes ago) and whose second one finished.
    const dead = await newJob(["acme/d1", "acme/d2"], minutesAgo(15));
    await claim(dead, "acme/d1", minutesAgo(10), 3);
    const d2 = await claim(dead, "acme/d2", minutesAgo(12));
    expect(await stack.store.finishRepo(d2, ["CLONING"], "COMPLETED", {})).toBe(true);
    // A job without progress for two hours, but with a runner alive and one repository waiting for its turn.
    const live = await newJob(["acme/l1", "acme/l2"], minutesAgo(120));
    await claim(live, "acme/l1", new Date());
    // A job whose only runner died on its first attempt 10 minutes ago: AWS Batch may still retry it.
    const retry = await newJob(["acme/r1"], minutesAgo(11));
    await claim(retry, "acme/r1", minutesAgo(10));

    expect(await handler(scheduled, {})).toEqual({ ok: true, jobs: 4, failed: 3 });

    const rows = async (jobId: string) => (await stack.store.listRepos(jobId)).map((r) => [r.repositoryName, r.status, r.error]);
    expect(await rows(never)).toEqual([
      ["acme/n1", "FAILED", "runner never started"],
      ["acme/n2", "FAILED", "runner never started"],
    ]);
    expect(await rows(dead)).toEqual([
      ["acme/d1", "FAILED", "runner crashed 3 times at step clone"],
      ["acme/d2", "COMPLETED", undefined],
    ]);
    expect(await rows(live)).toEqual([
      ["acme/l1", "CLONING", undefined],
      ["acme/l2", "PENDING", undefined],
    ]);
    expect(await rows(retry)).toEqual([["acme/r1", "CLONING", undefined]]);
    expect(await stack.store.getJob(never)).toMatchObject({ status: "FAILED", finishedAt: expect.any(String), counters: { total: 2, failed: 2, completed: 0 } });
    expect(await stack.store.getJob(dead)).toMatchObject({ status: "FAILED", finishedAt: expect.any(String), counters: { total: 2, failed: 1, completed: 1 } });
    expect((await stack.store.getJob(live))?.finishedAt).toBeUndefined();

    // A second pass finds nothing new.
    expect(await handler(scheduled, {})).toEqual({ ok: true, jobs: 2, failed: 0 });
  });
});

describe("the log lines the alarms count (terraform/alarms.ts metric filters)", () => {
  it('a failed pass logs "watchdog pass failed" at error level and still fails the invocation', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = newLogger({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const broken = { ...stack.store, listUnfinishedJobs: async () => Promise.reject(new Error("ProvisionedThroughputExceededException")) };
    const client = newSlackClient({ slack: { botToken: slack.token, apiUrl: slack.apiUrl } }, { retryConfig: { retries: 0 } });
    const failing = newLambdaHandler({
      deps: {
        store: broken,
        artifacts: stack.artifacts,
        launcher: { submit: async () => ({ batchJobId: "b" }), cancel: async () => undefined },
        notifier: newConsoleNotifier(log),
        expandOwner: async () => [],
        settings: { allowlist: [], allowedSlackUsers: [] },
        tell: newTell(client, log),
        log,
        deferred: async () => undefined,
      },
      token: slack.token,
      signingSecret: SECRET,
      apiUrl: slack.apiUrl,
      artifacts: stack.artifacts,
      log,
    });
    await expect(failing(scheduled, {})).rejects.toThrow("ProvisionedThroughputExceededException");
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: "watchdog pass failed" }));
  });
});
