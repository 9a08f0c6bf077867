/**
 * The campaign actions, one table per action × PR state, on the real store (dynalite) and the
 * GitHub fake; relaunching actions go to a launcher that records which indexes it was given.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newCampaignDeps } from "../core/campaign/index.ts";
import { publishJob, retryJob, updateJob, type ActionOutcome, type CampaignDeps } from "../core/campaign/index.ts";
import { closeJob, mergeJob } from "../core/campaign/index.ts";
import { newPrReader, octokitPerOwner, refreshOpenCampaigns } from "../core/github/index.ts";
import { newJobRows, type Job, type RepoRow, type RepoStatus } from "../core/jobs/index.ts";
import { startFakeGitHub, type FakeCheckRun, type FakeGitHub, type FakePull, type FakeReview } from "./fakes/github.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const TOKEN = "ghp_" + "a".repeat(36);
let stack: TestStack;
let github: FakeGitHub;
let seq = 0;
const launches: { jobId: string; indexes?: readonly number[] }[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  github = await startFakeGitHub({ tokens: [TOKEN] });
});
afterAll(async () => {
  await github?.close();
  await stack?.stop();
});

function deps(): CampaignDeps {
  return newCampaignDeps({ github: { token: TOKEN, apiUrl: github.url, pacing: { writeMs: 0, notifyMs: 0 } } }, stack.log, {
    store: stack.store,
    launcher: {
      async submit(job, _signal, indexes) {
        launches.push({ jobId: job.jobId, ...(indexes ? { indexes } : {}) });
        return { batchJobId: "local" };
      },
    },
  });
}

type RowSpec = { status: RepoStatus; pr?: Partial<FakePull> & { checks?: FakeCheckRun["conclusion"] | "running"; review?: FakeReview["state"] }; diff?: boolean };

/** A finished job whose rows end as `specs` say, with PRs in the fake where asked. */
async function jobWith(specs: RowSpec[], opts: { createPullRequests?: boolean } = {}): Promise<{ job: Job; names: string[] }> {
  const jobId = `j-act${String(++seq).padStart(7, "0")}`;
  const names = specs.map((_, i) => `acme/a${seq}-${i}`);
  const { job, repos } = newJobRows(jobId, { name: "Bump", type: "script", script: "true", repositories: names, createPullRequests: opts.createPullRequests ?? true, createdBy: "UDANA" }, new Date());
  await stack.store.createJob(job, repos);
  for (const [i, spec] of specs.entries()) {
    const name = names[i]!;
    let prFields: Partial<RepoRow> = {};
    if (spec.pr) {
      github.addRepo(name);
      github.setBranch(name, `cody/${jobId}`, `${i}`.padStart(40, "c"));
      const number = 100 + i;
      github.pulls(name).push({ number, title: "Bump", body: null, head: `cody/${jobId}`, base: "main", draft: false, state: "open", labels: [], requestedReviewers: [], requestedTeams: [], assignees: [], ...spec.pr });
      const c = spec.pr.checks ?? "success";
      github.setCheckRuns(name, `cody/${jobId}`, [{ name: "lint", status: c === "running" ? "in_progress" : "completed", conclusion: c === "running" ? null : c }]);
      if (spec.pr.review) github.addReview(name, number, "rev", spec.pr.review);
      prFields = { prNumber: number, prUrl: `https://github.test/${name}/pull/${number}` };
    }
    await stack.store.finishRepo(repos[i]!, ["PENDING"], spec.status, { ...prFields, ...(spec.diff ? { diffKey: `diffs/${jobId}/${name}.diff`, diffStats: { files: 1, additions: 1, deletions: 1 } } : {}), ...(spec.status === "FAILED" ? { error: "script exited with code 3" } : {}) });
  }
  const finished = await stack.store.finalizeIfDone(jobId, new Date());
  return { job: finished!, names };
}

function results(o: ActionOutcome) {
  if (o.kind !== "done") throw new Error(`not done: ${JSON.stringify(o)}`);
  return o.summary.all.map(({ kind, reason }) => (reason ? { kind, reason } : { kind }));
}

describe("merge × PR state", () => {
  it.for([
    { name: "open, green, approved", pr: { review: "APPROVED" }, want: { kind: "merged" } },
    { name: "failing checks", pr: { checks: "failure", review: "APPROVED" }, want: { kind: "skipped", reason: "checks failing: lint" } },
    { name: "checks running", pr: { checks: "running", review: "APPROVED" }, want: { kind: "skipped", reason: "checks still running" } },
    { name: "not reviewed", pr: {}, want: { kind: "skipped", reason: "waiting for review" } },
    { name: "changes requested", pr: { review: "CHANGES_REQUESTED" }, want: { kind: "skipped", reason: "changes requested" } },
    { name: "draft", pr: { draft: true, review: "APPROVED" }, want: { kind: "skipped", reason: "draft; mark it ready for review first" } },
    { name: "conflicting", pr: { conflicting: true, review: "APPROVED" }, want: { kind: "skipped", reason: "conflicts with main; run cody update" } },
    { name: "merged already", pr: { state: "closed", merged: true, mergedAt: "2026-01-01T00:00:00Z" }, want: { kind: "skipped", reason: "already merged" } },
    { name: "closed", pr: { state: "closed" }, want: { kind: "skipped", reason: "PR closed" } },
    { name: "failing, with --force", pr: { checks: "failure" }, force: true, want: { kind: "merged" } },
    { name: "conflicting, with --force", pr: { conflicting: true }, force: true, want: { kind: "skipped", reason: "conflicts with main; run cody update" } },
  ] as Array<{ name: string; pr: RowSpec["pr"]; force?: boolean; want: unknown }>)("$name", async (tc) => {
    const { job, names } = await jobWith([{ status: "COMPLETED", pr: tc.pr }]);
    const o = await mergeJob(deps(), { jobId: job.jobId, by: "UDANA", ...(tc.force ? { force: true } : {}) });
    expect(results(o)).toEqual([tc.want]);
    expect(github.pulls(names[0]!)[0]!.merged === true).toBe(tc.want === undefined ? false : (tc.want as { kind: string }).kind === "merged" || tc.pr?.merged === true);
  });

  it("turns branch protection's 405 and a moved head's 409 into reasons, and merges the rest", async () => {
    const { job, names } = await jobWith([{ status: "COMPLETED", pr: {} }, { status: "COMPLETED", pr: { review: "APPROVED" } }, { status: "COMPLETED", pr: { review: "APPROVED" } }, { status: "NO_CHANGES" }]);
    github.repos.get(names[0]!)!.protection = { requiredApprovals: 1 };
    github.inject({ method: "PUT", path: `/repos/${names[1]}/pulls/101/merge`, status: 409, body: { message: "Head branch was modified. Review and try the merge again." } });
    const o = await mergeJob(deps(), { jobId: job.jobId, by: "UDANA", force: true, method: "merge" });
    expect(results(o)).toEqual([
      { kind: "failed", reason: "GitHub refused the merge: At least 1 approving review is required by reviewers with write access." },
      { kind: "failed", reason: "the PR's head moved since the last refresh; refresh and merge again" },
      { kind: "merged" },
      { kind: "skipped", reason: "no pull request" },
    ]);
    const after = await stack.store.getJob(job.jobId);
    expect(after!.campaign).toMatchObject({ prs: 3, merged: 1, open: 2 });
    expect(after!.actions).toEqual([expect.objectContaining({ action: "merge", by: "UDANA", counts: { failed: 2, merged: 1, skipped: 1 } })]);
  });
});

describe("close × PR state", () => {
  it.for([
    { name: "open", pr: {}, want: { kind: "closed" } },
    { name: "draft", pr: { draft: true }, want: { kind: "closed" } },
    { name: "merged", pr: { state: "closed", merged: true, mergedAt: "2026-01-01T00:00:00Z" }, want: { kind: "skipped", reason: "already merged" } },
    { name: "closed", pr: { state: "closed" }, want: { kind: "skipped", reason: "already closed" } },
  ] as Array<{ name: string; pr: RowSpec["pr"]; want: unknown }>)("$name", async (tc) => {
    const { job, names } = await jobWith([{ status: "COMPLETED", pr: tc.pr }]);
    expect(results(await closeJob(deps(), { jobId: job.jobId, by: "UDANA" }))).toEqual([tc.want]);
    expect(github.pulls(names[0]!)[0]!.state).toBe("closed");
  });

  it("reports GitHub's 422 for a PR merged since the refresh as already merged", async () => {
    const { job, names } = await jobWith([{ status: "COMPLETED", pr: {} }]);
    github.inject({ method: "PATCH", path: `/repos/${names[0]}/pulls/100`, status: 422, body: { message: "Validation Failed", errors: [{ code: "custom", message: "state cannot be changed. The pull request has already been merged." }] } });
    expect(results(await closeJob(deps(), { jobId: job.jobId, by: "UDANA" }))).toEqual([{ kind: "skipped", reason: "already merged; a merged PR cannot be closed" }]);
  });
});

describe("relaunching actions × row state", () => {
  it("retry --failed resets only the failed rows, uncounts them and launches only their indexes", async () => {
    const { job } = await jobWith([{ status: "COMPLETED", pr: {} }, { status: "FAILED" }, { status: "NO_CHANGES" }, { status: "FAILED" }, { status: "CANCELLED" }]);
    const o = await retryJob(deps(), { jobId: job.jobId, by: "UDANA" });
    expect(results(o)).toEqual([
      { kind: "skipped", reason: "completed, not failed" },
      { kind: "launched" },
      { kind: "skipped", reason: "no changes, not failed" },
      { kind: "launched" },
      { kind: "skipped", reason: "cancelled, not failed" },
    ]);
    expect(launches.at(-1)).toEqual({ jobId: job.jobId, indexes: [1, 3] });
    const after = await stack.store.getJob(job.jobId);
    expect(after).toMatchObject({ status: "RUNNING", counters: { total: 5, completed: 1, noChanges: 1, failed: 0, cancelled: 1 } });
    expect(after!.finishedAt).toBeUndefined();
    const rows = await stack.store.listRepos(job.jobId);
    expect(rows.map((r) => r.status)).toEqual(["COMPLETED", "PENDING", "NO_CHANGES", "PENDING", "CANCELLED"]);
    expect(rows[1]!.error).toBeUndefined();
    expect(rows[0]!.finishedAt).toBeDefined();
    expect(after!.countedIndexes).toEqual(new Set([0, 2, 4]));
  });

  it("retry --repo takes a named row whatever its end, and refuses a name outside the job", async () => {
    const { job, names } = await jobWith([{ status: "COMPLETED" }, { status: "NO_CHANGES" }]);
    expect(results(await retryJob(deps(), { jobId: job.jobId, by: "UDANA", repositories: [names[1]!] }))).toEqual([{ kind: "skipped", reason: "not named" }, { kind: "launched" }]);
    expect(await retryJob(deps(), { jobId: job.jobId, by: "UDANA", repositories: ["acme/elsewhere"] })).toEqual({ kind: "refused", reason: `not in job ${job.jobId}: acme/elsewhere` });
  });

  it("refuses to relaunch while the job still runs, writing nothing", async () => {
    const jobId = "j-stillrunng";
    const { job, repos } = newJobRows(jobId, { name: "x", type: "script", script: "true", repositories: ["acme/r1", "acme/r2"], createdBy: "U" }, new Date());
    await stack.store.createJob(job, repos);
    await stack.store.finishRepo(repos[0]!, ["PENDING"], "FAILED", { error: "boom" });
    expect(await retryJob(deps(), { jobId, by: "U" })).toEqual({ kind: "refused", reason: `job ${jobId} is still running; retry it once it has ended` });
    expect((await stack.store.getRepo(jobId, "acme/r1"))!.status).toBe("FAILED");
  });

  it("publish relaunches changed rows without a PR to replay their stored diff, and turns PRs on", async () => {
    const { job } = await jobWith([{ status: "COMPLETED", diff: true }, { status: "NO_CHANGES" }, { status: "FAILED" }, { status: "COMPLETED", diff: true }], { createPullRequests: false });
    const o = await publishJob(deps(), { jobId: job.jobId, by: "UDANA", draft: true });
    expect(results(o)).toEqual([{ kind: "launched" }, { kind: "skipped", reason: "no change to publish" }, { kind: "skipped", reason: "failed in the preview; retry it first" }, { kind: "launched" }]);
    expect(launches.at(-1)).toEqual({ jobId: job.jobId, indexes: [0, 3] });
    const rows = await stack.store.listRepos(job.jobId);
    expect(rows.map((r) => r.replayDiff ?? false)).toEqual([true, false, false, true]);
    expect(await stack.store.getJob(job.jobId)).toMatchObject({ createPullRequests: true, pullRequest: { draft: true } });
  });

  it("update relaunches conflicting PRs and says why it leaves the others", async () => {
    const { job } = await jobWith([{ status: "COMPLETED", pr: { conflicting: true } }, { status: "COMPLETED", pr: {} }, { status: "COMPLETED", pr: { state: "closed", merged: true } }, { status: "NO_CHANGES" }]);
    const o = await updateJob(deps(), { jobId: job.jobId, by: "UDANA" });
    expect(results(o)).toEqual([{ kind: "launched" }, { kind: "up_to_date", reason: "up to date with main" }, { kind: "skipped", reason: "PR merged" }, { kind: "skipped", reason: "no pull request" }]);
    expect(launches.at(-1)).toEqual({ jobId: job.jobId, indexes: [0] });
    // The PR it will update is uncounted until the new attempt counts it again.
    expect((await stack.store.getJob(job.jobId))!.totals!.prsOpened).toBe(2);
  });
});

describe("the scheduled sweep's PR refresh", () => {
  it("refreshes finished jobs with open PRs, reports the ones whose burndown changed, and leaves done campaigns alone", async () => {
    const { job: open } = await jobWith([{ status: "COMPLETED", pr: { review: "APPROVED" } }, { status: "COMPLETED", pr: { checks: "failure" } }]);
    const { job: done } = await jobWith([{ status: "COMPLETED", pr: { state: "closed", merged: true } }]);
    await stack.store.setJobCampaign(done.jobId, { prs: 1, merged: 1, closed: 0, open: 0, passing: 0, failing: 0, pending: 0, awaitingReview: 0, approved: 0, conflicting: 0 });
    const changed: string[] = [];
    const before = github.requests.length;
    const readPr = newPrReader(octokitPerOwner({ github: { token: TOKEN, apiUrl: github.url } }));
    const r = await refreshOpenCampaigns({ store: stack.store, readPr, log: stack.log, onChanged: async (id) => void changed.push(id) }, { budget: 1000, limit: 500 });
    expect(changed).toContain(open.jobId);
    expect(changed).not.toContain(done.jobId);
    expect((await stack.store.getJob(open.jobId))!.campaign).toMatchObject({ prs: 2, open: 2, passing: 1, failing: 1, approved: 1 });
    const doneRepo = (await stack.store.listRepos(done.jobId))[0]!.repositoryName;
    expect(github.requests.slice(before).some((q) => q.path.startsWith(`/repos/${doneRepo}/`))).toBe(false);
    expect(r.refreshed).toBeGreaterThanOrEqual(2);
    // A second pass right away costs nothing GitHub counts: every answer is a 304.
    const again = await refreshOpenCampaigns({ store: stack.store, readPr, log: stack.log }, { budget: 1000, limit: 500 });
    expect(again.counted).toBe(0);
  });
});
