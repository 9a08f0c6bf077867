import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newGitHub } from "./github.ts";
import { campaignSummary, type CampaignSummary, type Job, type PullRequestStatus, type RepoRow } from "../jobs/index.ts";
import { newLogger } from "../runtime/index.ts";
import { newPrReader, refreshJob, type TrackingStore } from "./pr-tracking.ts";
import { startFakeGitHub, type FakeCheckRun, type FakeGitHub, type FakePull } from "../../test/fakes/github.ts";

const TOKEN = "ghp_faketoken000000000000000000000000";
const fast = { retryAfterBaseValue: 1, writeMinTimeMs: 0, notificationMinTimeMs: 0 };
const log = newLogger({ level: "silent" });
let fake: FakeGitHub;
let read: ReturnType<typeof newPrReader>;

beforeAll(async () => {
  fake = await startFakeGitHub({ tokens: [TOKEN] });
  const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, fast);
  read = newPrReader(() => gh.octokit, () => new Date("2026-01-05T10:00:00Z"));
});
afterAll(() => fake?.close());

/** A repository with one open PR #1 from cody/j-1 (head sha `h…`). */
function repoWithPull(name: string, pull: Partial<FakePull> = {}, runs: FakeCheckRun[] = []): string {
  const full = `acme/${name}`;
  fake.addRepo(full);
  fake.setBranch(full, "cody/j-1", "b".repeat(40));
  fake.pulls(full).push({
    number: 1, title: "t", body: null, head: "cody/j-1", base: "main", draft: false, state: "open",
    labels: [], requestedReviewers: [], requestedTeams: [], assignees: [], ...pull,
  });
  fake.setCheckRuns(full, "cody/j-1", runs);
  return full;
}
const green: FakeCheckRun[] = [{ name: "build", status: "completed", conclusion: "success" }];

describe("reading one pull request", () => {
  it.for([
    { name: "open, green, approved", pull: {}, runs: green, review: "APPROVED" as const, want: { state: "open", checks: "passing", review: "approved", conflicting: false, failingChecks: [] } },
    { name: "open, failing checks named", pull: {}, runs: [...green, { name: "lint", status: "completed", conclusion: "failure" }, { name: "e2e", status: "completed", conclusion: "timed_out" }] as FakeCheckRun[], want: { checks: "failing", failingChecks: ["lint", "e2e"], review: "review_required" } },
    { name: "open, checks running", pull: {}, runs: [{ name: "build", status: "in_progress", conclusion: null }] as FakeCheckRun[], want: { checks: "pending" } },
    { name: "changes requested", pull: {}, runs: green, review: "CHANGES_REQUESTED" as const, want: { review: "changes_requested" } },
    { name: "draft", pull: { draft: true }, runs: green, want: { state: "draft" } },
    { name: "conflicting", pull: { conflicting: true }, runs: green, want: { conflicting: true, mergeable: false, mergeableState: "dirty" } },
    { name: "merged", pull: { state: "closed", merged: true, mergedAt: "2026-01-04T00:00:00Z" } as Partial<FakePull>, runs: green, want: { state: "merged" } },
    { name: "closed", pull: { state: "closed" } as Partial<FakePull>, runs: green, want: { state: "closed" } },
  ])("$name", async (tc, ctx) => {
    const full = repoWithPull(`r-${ctx.task.id}`, tc.pull, tc.runs);
    if (tc.review) fake.addReview(full, 1, "alice", tc.review);
    const { status } = await read({ repository: full, number: 1 });
    expect(status).toMatchObject({ number: 1, headSha: "b".repeat(40), baseRef: "main", refreshedAt: "2026-01-05T10:00:00.000Z", ...tc.want });
  });

  it("combines commit statuses with check runs", async () => {
    const full = repoWithPull("statuses", {}, green);
    fake.setStatuses(full, "cody/j-1", [{ context: "ci/legacy", state: "error" }]);
    const { status } = await read({ repository: full, number: 1 });
    expect(status).toMatchObject({ checks: "failing", failingChecks: ["ci/legacy"] });
  });

  it("sends the stored ETags: an unchanged PR costs no counted request, a change is seen", async () => {
    const full = repoWithPull("etag", {}, green);
    const first = await read({ repository: full, number: 1 });
    expect(first.cost.counted).toBe(4);
    const before = fake.requests.length;
    const second = await read({ repository: full, number: 1, previous: first.status });
    expect(second.cost.counted).toBe(0);
    expect(fake.requests.slice(before).map((r) => r.status)).toEqual([304, 304, 304, 304]);
    expect(second.status).toMatchObject({ checks: "passing", review: "review_required" });
    fake.addReview(full, 1, "bob", "APPROVED");
    const third = await read({ repository: full, number: 1, previous: second.status });
    expect(third.cost.counted).toBe(1);
    expect(third.status.review).toBe("approved");
  });
});

function memoryStore(rows: RepoRow[]): TrackingStore & { campaign?: CampaignSummary } {
  const s: TrackingStore & { campaign?: CampaignSummary } = {
    getJob: async () => ({ jobId: "j-1" }) as Job,
    listRepos: async () => rows,
    setRepoPr: async (_j, name, pr: PullRequestStatus) => {
      rows.find((r) => r.repositoryName === name)!.pr = pr;
    },
    setJobCampaign: async (_j, c) => {
      s.campaign = c;
    },
  };
  return s;
}

describe("refreshing a job", () => {
  it("stays within the request budget, oldest first, and the next pass continues", async () => {
    const rows: RepoRow[] = [0, 1, 2].map((i) => {
      const full = repoWithPull(`budget-${i}`, {}, green);
      return { jobId: "j-1", repositoryName: full, index: i, status: "COMPLETED", attempt: 1, expiresAt: 0, prNumber: 1, prUrl: "u" };
    });
    const store = memoryStore(rows);
    const first = await refreshJob({ store, readPr: read, log }, "j-1", { budget: 8, concurrency: 1 });
    expect(first).toMatchObject({ refreshed: 2, deferred: 1, counted: 8 });
    expect(rows[2]!.pr).toBeUndefined();
    const second = await refreshJob({ store, readPr: read, log }, "j-1", { budget: 8, concurrency: 1 });
    expect(rows[2]!.pr?.checks).toBe("passing");
    // Two PRs answer 304 everywhere; only the third costs requests.
    expect(second.counted).toBe(4);
    expect(store.campaign).toMatchObject({ prs: 3, open: 3, passing: 3, awaitingReview: 3 });
  });

  it("reports a PR it cannot read and keeps going", async () => {
    const good = repoWithPull("readable", {}, green);
    const rows: RepoRow[] = [
      { jobId: "j-1", repositoryName: "acme/gone", index: 0, status: "COMPLETED", attempt: 1, expiresAt: 0, prNumber: 9, prUrl: "u" },
      { jobId: "j-1", repositoryName: good, index: 1, status: "COMPLETED", attempt: 1, expiresAt: 0, prNumber: 1, prUrl: "u" },
    ];
    const r = await refreshJob({ store: memoryStore(rows), readPr: read, log }, "j-1");
    expect(r.failed).toEqual([{ repository: "acme/gone", reason: "pull request not found (deleted, or no access)" }]);
    expect(r.refreshed).toBe(1);
  });
});

describe("the burndown", () => {
  it("counts merged, closed and open PRs by checks and review", () => {
    const pr = (over: Partial<PullRequestStatus>): Pick<RepoRow, "prUrl" | "pr"> => ({
      prUrl: "u",
      pr: { number: 1, state: "open", conflicting: false, checks: "passing", failingChecks: [], review: "approved", headSha: "h", baseRef: "main", refreshedAt: "t", ...over },
    });
    const s = campaignSummary([pr({ state: "merged" }), pr({ state: "closed" }), pr({}), pr({ checks: "failing", review: "review_required" }), pr({ checks: "pending", conflicting: true }), { prUrl: undefined }]);
    expect(s).toEqual({ prs: 5, merged: 1, closed: 1, open: 3, passing: 1, failing: 1, pending: 1, approved: 2, awaitingReview: 1, conflicting: 1 });
  });
});
