/**
 * A campaign action of any size finishes under a Lambda-style time limit (issue 23): a 500-PR
 * merge against the GitHub fake runs as a chain of chunks, each stopping before its deadline
 * (300 s minus a margin, on a simulated clock where every merge costs 2 s, as GitHub's pacing
 * of writes does); one chunk crashes half-way and the same task resumes from the cursor the
 * action log kept; one summary is announced at the end, and every PR is merged exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH_ROWS, newCampaignDeps, runActionChunk, type ActionSummary, type ChunkDeps, type ChunkTask } from "../core/campaign/index.ts";
import { newJobRows } from "../core/jobs/index.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const TOKEN = "ghp_" + "b".repeat(36);
const N = 500;
let stack: TestStack;
let github: FakeGitHub;

beforeAll(async () => {
  stack = await startTestStack();
  github = await startFakeGitHub({ tokens: [TOKEN] });
});
afterAll(async () => {
  await github?.close();
  await stack?.stop();
});

async function jobWithPrs(jobId: string, n: number): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `acme/m${i}`);
  const { job, repos } = newJobRows(jobId, { name: "Bump", type: "script", script: "true", repositories: names, createPullRequests: true, createdBy: "UDANA" }, new Date());
  await stack.store.createJob(job, repos);
  for (const [i, name] of names.entries()) {
    github.addRepo(name);
    github.setBranch(name, `cody/${jobId}`, `${i}`.padStart(40, "c"));
    github.pulls(name).push({ number: 7, title: "Bump", body: null, head: `cody/${jobId}`, base: "main", draft: false, state: "open", labels: [], requestedReviewers: [], requestedTeams: [], assignees: [] });
    github.setCheckRuns(name, `cody/${jobId}`, [{ name: "lint", status: "completed", conclusion: "success" }]);
    github.addReview(name, 7, "rev", "APPROVED");
  }
  // Rows end in batches of 25 (dynalite on 2 cores).
  for (let i = 0; i < n; i += 25) {
    await Promise.all(repos.slice(i, i + 25).map((r, k) => stack.store.finishRepo(r, ["PENDING"], "COMPLETED", { prNumber: 7, prUrl: `https://github.test/${names[i + k]}/pull/7` })));
  }
  await stack.store.finalizeIfDone(jobId, new Date());
  return names;
}

describe("a 500-PR merge under a Lambda-style time limit", () => {
  it("runs in chunks that each stop before the limit, resumes a crashed chunk from the action log, and announces one summary", async () => {
    const jobId = "j-chunk00001";
    const names = await jobWithPrs(jobId, N);
    let t = 1_000_000; // simulated clock (ms)
    const announced: ActionSummary[] = [];
    const base = newCampaignDeps({ github: { token: TOKEN, apiUrl: github.url, pacing: { writeMs: 0, notifyMs: 0 } } }, stack.log, {
      store: stack.store,
      launcher: { submit: async () => ({ batchJobId: "unused" }) },
      announce: async (_job, summary) => void announced.push(summary),
    });
    let merges = 0;
    let crashAt = 150; // the 150th merge call "times out the Lambda"
    const forge = base.forge!;
    // One deps per invocation: a crashed ("killed") invocation makes no further GitHub call, and
    // its merges already in flight are awaited before the retry, as nothing of a killed Lambda runs on.
    const inflight = new Set<Promise<unknown>>();
    const invocationDeps = (): ChunkDeps & { kill(): void } => {
      let killed = false;
      return {
        ...base,
        store: stack.store,
        kill: () => void (killed = true),
        forge: {
          ...forge,
          merge: async (...args) => {
            if (killed) throw new Error("invocation killed");
            if (++merges === crashAt) {
              crashAt = -1;
              killed = true;
              throw new Error("Task timed out after 300.00 seconds");
            }
            t += 2_000;
            const p = forge.merge(...args);
            inflight.add(p);
            return p.finally(() => inflight.delete(p));
          },
        },
      };
    };
    const LIMIT = 300_000;
    const MARGIN = 60_000;
    let task: ChunkTask = { jobId, action: "merge", by: "UDANA", options: { method: "squash" } };
    const chunkLengths: number[] = [];
    let crashed = 0;
    let finished: ActionSummary | undefined;
    for (let invocation = 0; invocation < 40 && !finished; invocation++) {
      const start = t;
      let r;
      const deps = invocationDeps();
      try {
        r = await runActionChunk(deps, task, { now: () => t, deadline: start + LIMIT - MARGIN });
      } catch (err) {
        // The dead letter is replayed: the task (with its runId) runs again.
        expect((err as Error).message).toContain("timed out");
        deps.kill();
        await Promise.allSettled([...inflight]);
        crashed += 1;
        const stored = (await stack.store.getJob(jobId)) as unknown as { actionRun?: { runId: string; next: number } };
        expect(stored.actionRun?.next).toBe(140); // the last batch saved before the crash
        task = { ...task, runId: stored.actionRun!.runId };
        continue;
      }
      chunkLengths.push(t - start);
      if (r.kind === "continue") {
        task = { ...task, runId: r.runId };
        // Another click meanwhile starts nothing: the job has an action in progress.
        if (invocation === 0) expect(await runActionChunk(invocationDeps(), { jobId, action: "close", by: "UBOB" }, { now: () => t, deadline: t + 1 })).toMatchObject({ kind: "busy", action: "merge", by: "UDANA" });
      }
      else if (r.kind === "finished" && r.outcome.kind === "done") finished = r.outcome.summary;
      else throw new Error(`unexpected chunk outcome ${JSON.stringify(r)}`);
    }
    expect(crashed).toBe(1);
    expect(chunkLengths.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...chunkLengths)).toBeLessThanOrEqual(LIMIT - MARGIN);
    // One summary, one result per repository, every PR merged once on GitHub.
    expect(announced).toHaveLength(1);
    expect(finished!.all).toHaveLength(N);
    const merged = finished!.all.filter((r) => r.kind === "merged").length;
    const already = finished!.all.filter((r) => r.kind === "skipped" && r.reason === "already merged").length;
    expect(merged + already).toBe(N);
    // Only PRs of the batch that was in flight when the chunk crashed (merged after its last save).
    expect(already).toBeGreaterThan(0);
    expect(already).toBeLessThanOrEqual(BATCH_ROWS);
    expect(names.every((n) => github.pulls(n)[0]!.merged === true)).toBe(true);
    expect(github.requests.filter((q) => q.method === "PUT" && q.path.endsWith("/merge") && q.status === 200)).toHaveLength(N);
    // The action log: the run is gone, the action recorded once.
    const job = await stack.store.getJob(jobId);
    expect((job as unknown as { actionRun?: unknown }).actionRun).toBeUndefined();
    expect(job!.actions?.filter((a) => a.action === "merge")).toHaveLength(1);
    expect(job!.campaign?.merged).toBe(N);
  });
});
