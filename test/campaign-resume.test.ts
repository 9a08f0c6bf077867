/**
 * The scheduled pass resumes campaign actions whose chunks stopped (issue 23): a run on the job
 * row that has not moved for STALE_MS gets its next chunk deferred again with its runId; a run
 * that moves, or a job without one, is left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STALE_MS } from "../core/campaign/index.ts";
import { newJobId, newJobRows, type ActionRun } from "../core/jobs/index.ts";
import { resumeStalledActions } from "../bot/campaign-resume.ts";
import type { DeferredTask } from "../bot/task-types.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function jobWithRun(updatedAt: Date | undefined): Promise<string> {
  const jobId = newJobId();
  const { job, repos } = newJobRows(jobId, { type: "script", name: "c", script: "true", repositories: ["acme/a"], createdBy: "UDANA" }, new Date());
  await stack.store.createJob(job, repos);
  if (updatedAt) {
    const run: ActionRun = { runId: `run-${jobId}`, action: "merge", by: "UDANA", options: {}, startedAt: updatedAt.toISOString(), updatedAt: updatedAt.toISOString(), next: 40, chunks: 2, results: [] };
    expect(await stack.store.startActionRun(jobId, run, new Date(0))).toBe(true);
  }
  return jobId;
}

describe("resuming stalled campaign actions", () => {
  it("defers the next chunk of a run stalled past STALE_MS, and only that one", async () => {
    const now = new Date();
    const stalled = await jobWithRun(new Date(now.getTime() - STALE_MS - 60_000));
    await jobWithRun(new Date(now.getTime() - 60_000)); // moving
    await jobWithRun(undefined); // none
    const deferred: DeferredTask[] = [];
    const n = await resumeStalledActions({ store: stack.store, deferred: async (t) => void deferred.push(t), log: stack.log }, now);
    expect(n).toBe(1);
    expect(deferred).toEqual([{ kind: "campaign", action: "merge", jobId: stalled, userId: "UDANA", runId: `run-${stalled}` }]);
  });
});
