/**
 * The store against dynalite over HTTP through the real AWS SDK: conditional claims, counting
 * once, finalizing once, cancel racing the end of a job.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Job, type RepoRow } from "./job.ts";
import { newJobId, newJobRows } from "./job-request.ts";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { newConsoleNotifier } from "./notifier.ts";
import { newDynamoClient } from "./dynamo.ts";
import { sweepJob } from "../launch/index.ts";
import { startTestStack, type TestStack } from "../../test/support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function newJob(n: number, at = new Date()): Promise<{ job: Job; repos: RepoRow[] }> {
  const rows = newJobRows(newJobId(), { type: "script", script: "true", name: "t", repositories: Array.from({ length: n }, (_, i) => `acme/r${i}`), createdBy: "U1" }, at);
  expect((await stack.store.createJob(rows.job, rows.repos)).kind).toBe("created");
  return rows;
}

describe("watchdog", () => {
  it("counts a row whose runner died between ending it and counting it, and finishes the job", async () => {
    const { job, repos } = await newJob(2);
    await stack.store.finishRepo(repos[0]!, ["PENDING"], "COMPLETED", {});
    // The second row ends, but its runner dies before the count: write the terminal status alone.
    const client = DynamoDBDocumentClient.from(newDynamoClient(stack.config));
    await client.send(
      new UpdateCommand({
        TableName: stack.config.reposTable,
        Key: { jobId: job.jobId, repositoryName: "acme/r1" },
        UpdateExpression: "SET #s = :f, #e = :e",
        ExpressionAttributeNames: { "#s": "status", "#e": "error" },
        ExpressionAttributeValues: { ":f": "FAILED", ":e": "script exited with code 1" },
      }),
    );
    expect((await stack.store.getJob(job.jobId))!.counters.failed).toBe(0);
    const now = new Date();
    await sweepJob({ store: stack.store, notifier: newConsoleNotifier(stack.log), log: stack.log }, job.jobId, { staleBefore: now, now });
    const after = (await stack.store.getJob(job.jobId))!;
    expect(after.counters).toEqual({ total: 2, completed: 1, noChanges: 0, failed: 1, cancelled: 0 });
    expect(after.status).toBe("FAILED");
    expect(after.finishedAt).toBeDefined();
  });
});

describe("store", () => {
  it("creates a job once: a second creation with the same id returns the stored job", async () => {
    const { job, repos } = await newJob(30);
    const again = await stack.store.createJob({ ...job, name: "other" }, repos);
    expect(again.kind).toBe("exists");
    expect(again.job.name).toBe("t");
    expect(await stack.store.listRepos(job.jobId)).toHaveLength(30);
  });

  it("claims a PENDING row once, refuses a live one, and takes over a stale one with the next attempt", async () => {
    const { job } = await newJob(1);
    const now = new Date();
    const first = await stack.store.claimRepo(job.jobId, "acme/r0", { now, staleBefore: new Date(now.getTime() - 60_000) });
    expect(first).toMatchObject({ kind: "claimed", row: { status: "CLONING", attempt: 1 } });
    const busy = await stack.store.claimRepo(job.jobId, "acme/r0", { now, staleBefore: new Date(now.getTime() - 60_000) });
    expect(busy.kind).toBe("busy");
    expect(await stack.store.moveRepo({ jobId: job.jobId, repositoryName: "acme/r0", attempt: 1 }, "CLONING", "RUNNING", { step: "verify" })).toBe(true);
    const later = new Date(now.getTime() + 120_000);
    const takeover = await stack.store.claimRepo(job.jobId, "acme/r0", { now: later, staleBefore: new Date(later.getTime() - 60_000) });
    expect(takeover).toMatchObject({ kind: "claimed", row: { status: "CLONING", attempt: 2, lastStep: "verify" } });
    // The old attempt no longer owns the row.
    expect(await stack.store.moveRepo({ jobId: job.jobId, repositoryName: "acme/r0", attempt: 1 }, "CLONING", "RUNNING", {})).toBe(false);
    expect(await stack.store.heartbeat({ jobId: job.jobId, repositoryName: "acme/r0", attempt: 1 }, later)).toBe(false);
  });

  it("counts a finished repository exactly once", async () => {
    const { job, repos } = await newJob(2);
    expect(await stack.store.finishRepo(repos[0]!, ["PENDING"], "FAILED", { error: "x" })).toBe(true);
    expect(await stack.store.finishRepo(repos[0]!, ["PENDING"], "FAILED", { error: "x" })).toBe(false);
    expect(await stack.store.countRepo({ ...repos[0]!, status: "FAILED" })).toBe(false);
    const stored = await stack.store.getJob(job.jobId);
    expect(stored!.counters).toEqual({ total: 2, completed: 0, noChanges: 0, failed: 1, cancelled: 0 });
  });

  it("finalizes exactly once however many callers race", async () => {
    const { job, repos } = await newJob(3);
    await Promise.all(repos.map((r) => stack.store.finishRepo(r, ["PENDING"], "NO_CHANGES", {})));
    const results = await Promise.all(Array.from({ length: 6 }, () => stack.store.finalizeIfDone(job.jobId, new Date())));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await stack.store.getJob(job.jobId))!.status).toBe("COMPLETED");
  });

  it("keeps a cancel that lands after the last repository ended", async () => {
    const { job, repos } = await newJob(1);
    await stack.store.finishRepo(repos[0]!, ["PENDING"], "COMPLETED", {});
    await stack.store.markJobCancelled(job.jobId, "U1", new Date());
    const finalized = await stack.store.finalizeIfDone(job.jobId, new Date());
    expect(finalized?.status).toBe("CANCELLED");
  });

  it("does not finalize before every repository ended", async () => {
    const { job, repos } = await newJob(2);
    await stack.store.finishRepo(repos[0]!, ["PENDING"], "COMPLETED", {});
    expect(await stack.store.finalizeIfDone(job.jobId, new Date())).toBeUndefined();
  });

  it("refuses to start pushing a row whose cancel was requested", async () => {
    const { job } = await newJob(1);
    const now = new Date();
    await stack.store.claimRepo(job.jobId, "acme/r0", { now, staleBefore: now });
    const row = { jobId: job.jobId, repositoryName: "acme/r0", attempt: 1 };
    await stack.store.moveRepo(row, "CLONING", "RUNNING", {});
    expect(await stack.store.requestRepoCancel(row)).toBe(true);
    expect(await stack.store.moveRepo(row, "RUNNING", "PUSHING", {}, undefined, { unlessCancelled: true })).toBe(false);
    expect((await stack.store.getRepo(job.jobId, "acme/r0"))!.status).toBe("RUNNING");
  });

  it("lists unfinished jobs for the watchdog however many finished jobs are newer", async () => {
    const stuck = await newJob(1, new Date(Date.now() - 3600_000));
    for (let i = 0; i < 5; i++) {
      const done = await newJob(1);
      await stack.store.finishRepo(done.repos[0]!, ["PENDING"], "NO_CHANGES", {});
      await stack.store.finalizeIfDone(done.job.jobId, new Date());
    }
    const ids = (await stack.store.listUnfinishedJobs(100)).map((j) => j.jobId);
    expect(ids).toContain(stuck.job.jobId);
    expect((await stack.store.listUnfinishedJobs(100)).every((j) => !j.finishedAt)).toBe(true);
  });

  it("lists recent jobs newest first and leaves expired ones out", async () => {
    const old = await newJob(1, new Date(Date.now() - 40 * 24 * 3600 * 1000));
    const fresh = await newJob(1);
    const ids = (await stack.store.listJobs(50)).map((j) => j.jobId);
    expect(ids[0]).toBe(fresh.job.jobId);
    expect(ids).not.toContain(old.job.jobId);
  });
});
