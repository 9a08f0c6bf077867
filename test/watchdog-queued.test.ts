/**
 * The watchdog asks AWS Batch before it fails anything (issue 23): a job queued behind a
 * multi-hour job stays RUNNABLE for hours (simulated clock, the Batch fake's too) and none of its
 * repositories is failed; its thread is told, once an hour, that it is queued and behind what.
 * Once Batch no longer holds it, the rows nobody will run are failed as before.
 */
import { BatchClient } from "@aws-sdk/client-batch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchJobName, newBatchLauncher, newBatchQueueProbe, runWatchdog, type WatchdogDeps } from "../core/launch/index.ts";
import { newConsoleNotifier, newJobId, newJobRows, type Job } from "../core/jobs/index.ts";
import { startFakeBatch, type FakeBatch } from "./fakes/batch.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const QUEUE = "cody-batch-dev-queue";
const T0 = Date.now();
let clock = T0;
let stack: TestStack;
let batch: FakeBatch;
let client: BatchClient;

beforeAll(async () => {
  stack = await startTestStack();
  batch = await startFakeBatch({ now: () => clock });
  client = new BatchClient({ endpoint: batch.url, region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" }, maxAttempts: 1 });
});
afterAll(async () => {
  await batch?.close();
  await stack?.stop();
});

async function submitted(repositories: string[]): Promise<Job> {
  const { job, repos } = newJobRows(newJobId(), { name: "x", type: "script", script: "true", repositories, createdBy: "U1" }, new Date(clock));
  await stack.store.createJob(job, repos);
  const launcher = newBatchLauncher({ env: "dev", region: "us-east-1", batchJobQueue: QUEUE, batchJobDefinition: "cody-batch-dev-runner" }, client);
  const { batchJobId } = await launcher.submit(job);
  await stack.store.setJobFields(job.jobId, { batchJobId });
  return { ...job, batchJobId };
}

describe("the watchdog and a job queued in AWS Batch", () => {
  it("never fails a job RUNNABLE for hours, says what it waits behind once an hour, and fails it only once Batch lets it go", async () => {
    const posts: { jobId: string; text: string; at: number }[] = [];
    const deps: WatchdogDeps & { store: TestStack["store"] } = {
      store: stack.store,
      notifier: newConsoleNotifier(stack.log),
      log: stack.log,
      queue: newBatchQueueProbe(client, { queue: QUEUE, jobName: (id) => batchJobName("dev", id) }),
      postInThread: async (job, text) => void posts.push({ jobId: job.jobId, text, at: clock }),
    };
    const settings = { heartbeatSeconds: 30, maxAttempts: 3, pendingMinutes: 60 };

    // A 3-repository job runs for hours (its runners heartbeat); a 2-repository job queues behind it.
    const big = await submitted(["acme/b0", "acme/b1", "acme/b2"]);
    batch.setStatus(big.batchJobId!, "RUNNING", true);
    const bigRows = [];
    for (const r of ["acme/b0", "acme/b1", "acme/b2"]) {
      const c = await stack.store.claimRepo(big.jobId, r, { now: new Date(clock), staleBefore: new Date(clock) });
      if (c.kind !== "claimed") throw new Error(c.kind);
      bigRows.push(c.row);
    }
    clock += 60_000;
    const queued = await submitted(["acme/q0", "acme/q1"]);
    batch.setStatus(queued.batchJobId!, "RUNNABLE", true);

    // Six simulated hours, a pass every 5 minutes.
    for (let pass = 0; pass < 72; pass++) {
      clock += 5 * 60_000;
      for (const row of bigRows) expect(await stack.store.heartbeat(row, new Date(clock))).toBe(true);
      const r = await runWatchdog(deps, settings, new Date(clock));
      expect(r.failed).toBe(0);
    }
    const rows = await stack.store.listRepos(queued.jobId);
    expect(rows.map((r) => [r.repositoryName, r.status])).toEqual([
      ["acme/q0", "PENDING"],
      ["acme/q1", "PENDING"],
    ]);
    // The notice: from the first pass that would have failed the job (60 minutes without progress),
    // then once an hour: 66, 126, 186, 246, 306 minutes; never for the running job.
    expect(posts.every((p) => p.jobId === queued.jobId)).toBe(true);
    expect(posts.map((p) => Math.round((p.at - T0) / 60_000))).toEqual([66, 126, 186, 246, 306]);
    expect(posts[0]!.text).toContain(`queued in AWS Batch (RUNNABLE`);
    expect(posts[0]!.text).toContain(`2 waiting), behind ${batchJobName("dev", big.jobId)} (RUNNING, 3 repositories)`);
    expect(posts.at(-1)!.text).toMatch(/for 5 h \d+ min/);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(60 * 60_000);

    // Batch cannot be asked: nothing is failed this pass either.
    batch.setStatus(queued.batchJobId!, "FAILED", true);
    batch.failNext("DescribeJobs", 500, "ServerException");
    clock += 5 * 60_000;
    for (const row of bigRows) await stack.store.heartbeat(row, new Date(clock));
    expect((await runWatchdog(deps, settings, new Date(clock))).failed).toBe(0);

    // Batch no longer holds the job (cancelled outside Cody): its rows will never run and are failed.
    clock += 5 * 60_000;
    for (const row of bigRows) await stack.store.heartbeat(row, new Date(clock));
    expect((await runWatchdog(deps, settings, new Date(clock))).failed).toBe(2);
    expect((await stack.store.listRepos(queued.jobId)).map((r) => [r.status, r.error])).toEqual([
      ["FAILED", "runner never started"],
      ["FAILED", "runner never started"],
    ]);
    expect((await stack.store.listRepos(big.jobId)).every((r) => r.status === "CLONING")).toBe(true);
  });
});
