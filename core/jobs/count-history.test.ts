/**
 * The count history (issue 20): pure folding and compaction, and the store keeping it through
 * dynalite over HTTP: a point per count, an uncount on retry, PR points only when PR counts
 * change, and the cap of MAX_HISTORY_POINTS held while the end values stay exact.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaignSummary, type Job, type RepoRow } from "./job.ts";
import { newJobId, newJobRows } from "./job-request.ts";
import { compactHistory, countPoint, foldHistory, MAX_HISTORY_POINTS, thin } from "./count-history.ts";
import type { CountPoint } from "./job.ts";
import { startTestStack, type TestStack } from "../../test/support/stack.ts";

describe("foldHistory", () => {
  it("turns deltas and absolute points into one snapshot per change of counts", () => {
    const pts: CountPoint[] = [
      countPoint("completed", 1, new Date("2026-01-01T00:00:01Z")),
      countPoint("failed", 1, new Date("2026-01-01T00:00:02Z")),
      { t: Date.parse("2026-01-01T00:00:03Z"), s: { open: 1, merged: 0, closed: 0 } },
      { t: Date.parse("2026-01-01T00:00:04Z"), s: { open: 1, merged: 0, closed: 0 } },
      countPoint("failed", -1, new Date("2026-01-01T00:00:05Z")),
    ];
    const snaps = foldHistory(pts, "2026-01-01T00:00:00Z");
    expect(snaps.map((s) => [s.t.slice(17, 19), s.completed, s.failed, s.open])).toEqual([
      ["00", 0, 0, 0],
      ["01", 1, 0, 0],
      ["02", 1, 1, 0],
      ["03", 1, 1, 1],
      ["05", 1, 0, 1],
    ]);
  });

  it("compacts to at most `keep` points with the same end values", () => {
    const pts = Array.from({ length: 1000 }, (_, i) => countPoint(i % 3 === 0 ? "failed" : "completed", 1, new Date(Date.UTC(2026, 0, 1, 0, 0, i))));
    const c = compactHistory(pts, 100);
    expect(c.length).toBe(100);
    expect(foldHistory(c).at(-1)).toEqual(foldHistory(pts).at(-1));
    expect(thin([1, 2, 3, 4, 5], 3)).toEqual([1, 3, 5]);
  });
});

describe("the store's history of counts", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function newJob(n: number): Promise<{ job: Job; repos: RepoRow[] }> {
    const rows = newJobRows(newJobId(), { type: "script", script: "true", name: "t", repositories: Array.from({ length: n }, (_, i) => `acme/r${i}`), createdBy: "U1" }, new Date());
    await stack.store.createJob(rows.job, rows.repos);
    return rows;
  }

  it("appends a point with every count and uncount, and PR points only when PR counts change", async () => {
    const { job, repos } = await newJob(3);
    await stack.store.finishRepo(repos[0]!, ["PENDING"], "COMPLETED", { prUrl: "https://github.com/acme/r0/pull/1" });
    await stack.store.finishRepo(repos[1]!, ["PENDING"], "FAILED", { error: "boom" });
    await stack.store.resetRepo({ ...repos[1]!, status: "FAILED" });
    const rows = await stack.store.listRepos(job.jobId);
    await stack.store.setJobCampaign(job.jobId, campaignSummary(rows, "2099-01-01T00:00:00.000Z"));
    await stack.store.setJobCampaign(job.jobId, campaignSummary(rows, "2099-01-01T00:05:00.000Z"));
    const after = (await stack.store.getJob(job.jobId))!;
    expect(after.history?.map((p) => p.k ?? "pr")).toEqual(["completed", "failed", "failed", "pr"]);
    const last = foldHistory(after.history, after.createdAt).at(-1)!;
    expect([last.completed, last.failed, last.open]).toEqual([1, 0, 1]);
  });

  it(`keeps at most ${MAX_HISTORY_POINTS} points on a job of 560 counts, and its last point matches the counters`, async () => {
    const n = 560;
    const { job } = await newJob(n);
    let longest = 0;
    for (let i = 0; i < n; i++) {
      await stack.store.countRepo({ jobId: job.jobId, index: i, status: i % 4 === 0 ? "FAILED" : "COMPLETED" });
      if (i % 40 === 39 || i === n - 1) longest = Math.max(longest, (await stack.store.getJob(job.jobId))!.history!.length);
    }
    const after = (await stack.store.getJob(job.jobId))!;
    expect(longest).toBeLessThanOrEqual(MAX_HISTORY_POINTS);
    expect(after.history!.length).toBeGreaterThan(MAX_HISTORY_POINTS / 4);
    const last = foldHistory(after.history).at(-1)!;
    expect({ completed: last.completed, failed: last.failed }).toEqual({ completed: after.counters.completed, failed: after.counters.failed });
    expect(after.counters.failed).toBe(140);
  });
});
