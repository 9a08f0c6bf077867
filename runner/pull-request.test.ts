import { afterEach, describe, expect, it } from "vitest";
import { newGitHub } from "../core/github/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import type { PrSlotResult } from "../core/github/index.ts";
import { GITHUB_REFUSALS, startFakeGitHub, type FakeGitHub } from "../test/fakes/github.ts";
import {
  defaultBranch,
  newGitHubForge,
  openOrUpdatePullRequest,
  pullRequestBody,
  pullRequestMarker,
  type PullRequestDeps,
  type PullRequestInput,
} from "./pull-request.ts";

const TOKEN = "ghp_prtesttoken00000000000000000000000";
const HEAD = "cody/j-abc123";
const signal = new AbortController().signal;

let fake: FakeGitHub | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** Log lines written during a test, parsed. */
function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = newLogger({ level: "debug", secrets: [TOKEN] }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

async function setup(opts: { defaultBranch?: string; maxRateLimitRetries?: number } = {}) {
  fake = await startFakeGitHub({ tokens: [TOKEN] });
  const repo = fake.addRepo("acme/api", { defaultBranch: opts.defaultBranch ?? "main" });
  repo.collaborators.add("alice");
  repo.teams.add("platform");
  fake.setBranch("acme/api", "develop", "d".repeat(40));
  fake.setBranch("acme/api", HEAD, "c".repeat(40)); // the runner's push
  const { log, lines } = captureLog();
  const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, { retryAfterBaseValue: 1, writeMinTimeMs: 0, notificationMinTimeMs: 0, maxRateLimitRetries: opts.maxRateLimitRetries ?? 3, log });
  const deps: PullRequestDeps = { forge: newGitHubForge(gh.octokit), log };
  return { fake, deps, lines };
}

function input(over: Partial<PullRequestInput> = {}, job: Partial<PullRequestInput["job"]> = {}): PullRequestInput {
  return {
    job: {
      jobId: "j-abc123",
      name: "Bump lodash to 4.17.21",
      type: "code-pattern-update",
      prompt: "Upgrade lodash everywhere.",
      verify: "npm test",
      pullRequest: { draft: false, labels: ["deps"], reviewers: [], teamReviewers: [], assignees: [], minIntervalSeconds: 0 },
      slack: { teamId: "T1", channel: "C1", threadTs: "1700000000.000100" },
      ...job,
    },
    repository: "acme/api",
    head: HEAD,
    summary: "Updated package.json and the lock file.",
    diffStats: { files: 2, additions: 10, deletions: 4 },
    verify: { ok: true },
    ...over,
  };
}

describe("openOrUpdatePullRequest", () => {
  it("opens a pull request with the base, head, title, body and labels asked for", async () => {
    const { fake, deps } = await setup();
    const got = await openOrUpdatePullRequest(deps, input({ base: "develop" }, { pullRequest: { draft: true, labels: ["deps", "cody-batch"], reviewers: ["alice"], teamReviewers: ["platform"], assignees: ["alice"], minIntervalSeconds: 0 } }), signal);
    expect(got).toEqual({ kind: "opened", number: 1, url: "https://github.test/acme/api/pull/1" });
    const [pr, ...others] = fake.pulls("acme/api");
    expect(others).toEqual([]);
    expect(pr).toMatchObject({
      head: HEAD,
      base: "develop",
      title: "Bump lodash to 4.17.21",
      draft: true,
      labels: ["cody-batch", "deps"],
      requestedReviewers: ["alice"],
      requestedTeams: ["platform"],
      assignees: ["alice"],
    });
    expect(pr!.body).toContain(pullRequestMarker("j-abc123"));
    expect(pr!.body).toContain("> Upgrade lodash everywhere.");
    expect(pr!.body).toContain("Updated package.json and the lock file.");
    expect(fake.repos.get("acme/api")!.labels.get("cody-batch")).toMatchObject({ color: "5319e7", description: "Opened by Cody Batch" });
    expect(fake.requests.filter((r) => r.path === "/repos/acme/api")).toEqual([]); // base given: no lookup
  });

  it("looks up the default branch when the job names no base", async () => {
    const { fake, deps } = await setup({ defaultBranch: "trunk" });
    expect(await openOrUpdatePullRequest(deps, input(), signal)).toMatchObject({ kind: "opened" });
    expect(fake.pulls("acme/api")[0]).toMatchObject({ base: "trunk" });
    expect(await defaultBranch(deps, "acme/api", signal)).toEqual({ kind: "ok", branch: "trunk" });
  });

  it("updates the pull request that is already open for the branch", async () => {
    const { fake, deps } = await setup();
    fake.repos.get("acme/api")!.pulls.push({ number: 41, title: "old", body: "old body", head: HEAD, base: "main", draft: false, state: "open", labels: [], requestedReviewers: [], requestedTeams: [], assignees: [] });
    const got = await openOrUpdatePullRequest(deps, input(), signal);
    expect(got).toEqual({ kind: "updated", number: 41, url: "https://github.test/acme/api/pull/41" });
    expect(fake.pulls("acme/api")).toHaveLength(1);
    expect(fake.pulls("acme/api")[0]).toMatchObject({ title: "Bump lodash to 4.17.21", labels: ["cody-batch", "deps"] });
    expect(fake.requests.some((r) => r.method === "POST" && r.path === "/repos/acme/api/pulls")).toBe(false);
  });

  it("leaves one pull request when a retried runner asks again", async () => {
    const { fake, deps } = await setup();
    const first = await openOrUpdatePullRequest(deps, input(), signal);
    const second = await openOrUpdatePullRequest(deps, input({ summary: "Second attempt." }), signal);
    expect(first).toMatchObject({ kind: "opened", number: 1 });
    expect(second).toEqual({ kind: "updated", number: 1, url: "https://github.test/acme/api/pull/1" });
    expect(fake.pulls("acme/api")).toHaveLength(1);
    expect(fake.pulls("acme/api")[0]!.body).toContain("Second attempt.");
    // Labels were there already: no second label write.
    expect(fake.requests.filter((r) => r.path === "/repos/acme/api/issues/1/labels")).toHaveLength(1);
  });

  it("reuses the pull request another runner opened in between (422 already exists)", async () => {
    const { fake, deps } = await setup();
    fake.repos.get("acme/api")!.pulls.push({ number: 7, title: "t", body: null, head: HEAD, base: "main", draft: false, state: "open", labels: [], requestedReviewers: [], requestedTeams: [], assignees: [] });
    fake.inject({ method: "GET", path: "/repos/acme/api/pulls", status: 200, body: [] }); // the list ran before the other creation
    expect(await openOrUpdatePullRequest(deps, input(), signal)).toEqual({ kind: "updated", number: 7, url: "https://github.test/acme/api/pull/7" });
    expect(fake.requests.filter((r) => r.method === "POST" && r.path === "/repos/acme/api/pulls").map((r) => r.status)).toEqual([422]);
    expect(fake.pulls("acme/api")).toHaveLength(1);
  });

  it("waits out a secondary rate limit with retry-after and opens the pull request", async () => {
    const { fake, deps, lines } = await setup();
    fake.inject({ method: "POST", path: "/repos/acme/api/pulls", status: 403, headers: { "retry-after": "3" } });
    expect(await openOrUpdatePullRequest(deps, input(), signal)).toMatchObject({ kind: "opened", number: 1 });
    expect(fake.requests.filter((r) => r.method === "POST" && r.path === "/repos/acme/api/pulls").map((r) => r.status)).toEqual([403, 201]);
    expect(lines).toContainEqual(expect.objectContaining({ msg: "github rate limit hit", kind: "secondary", retryAfter: 3, willRetry: true }));
  });

  it.for([
    { name: "a repository the token cannot see (404)", access: "none" as const, github: "HTTP 404: Not Found" },
    { name: "a read-only repository (403)", access: "read" as const, github: "HTTP 403: Resource not accessible by personal access token" },
  ])("fails with the access reason for $name", async (tc) => {
    const { fake, deps } = await setup();
    fake.repos.get("acme/api")!.access = tc.access;
    expect(await openOrUpdatePullRequest(deps, input(), signal)).toEqual({ kind: "failed", reason: `token has no push access to acme/api (GitHub ${tc.github})` });
    expect(fake.pulls("acme/api")).toEqual([]);
  });

  const CREATE = { method: "POST", path: "/repos/acme/api/pulls" };
  it.for([
    { name: "422 head invalid", at: CREATE, answer: GITHUB_REFUSALS.headInvalid, want: "GitHub refused to create the pull request (HTTP 422: Validation Failed: head invalid)" },
    { name: "422 base invalid", at: CREATE, answer: GITHUB_REFUSALS.baseInvalid, want: "GitHub refused to create the pull request (HTTP 422: Validation Failed: base invalid)" },
    { name: "422 with errors[].message", at: CREATE, answer: GITHUB_REFUSALS.customValidation, want: "GitHub refused to create the pull request (HTTP 422: Validation Failed: Head sha can't be blank)" },
    { name: "403 with a message", at: CREATE, answer: GITHUB_REFUSALS.forbidden, want: "token has no push access to acme/api (GitHub HTTP 403: Resource not accessible by integration)" },
    { name: "403 archived", at: CREATE, answer: GITHUB_REFUSALS.archived, want: "token has no push access to acme/api (GitHub HTTP 403: Repository was archived so is read-only.)" },
    { name: "404 on the list", at: { method: "GET", path: "/repos/acme/api/pulls" }, answer: GITHUB_REFUSALS.notFound, want: "token has no push access to acme/api (GitHub HTTP 404: Not Found)" },
    // 409 is retried by Octokit: it answers every attempt.
    { name: "409", at: CREATE, answer: GITHUB_REFUSALS.conflict, times: 10, want: "GitHub refused to create the pull request (HTTP 409: Git Repository is empty.)" },
    { name: "451 on the repository", at: { method: "GET", path: "/repos/acme/api" }, answer: GITHUB_REFUSALS.unavailableForLegalReasons, noBase: true, want: "GitHub refused to read the repository (HTTP 451: Repository access blocked)" },
    { name: "502 after the retries", at: CREATE, answer: { status: 502, body: { message: "Server Error" } }, times: 10, want: "GitHub could not create the pull request (HTTP 502: Server Error)" },
    { name: "409 on the update", at: { method: "PATCH", path: "/repos/acme/api/pulls/41" }, answer: GITHUB_REFUSALS.conflict, times: 10, open: true, want: "GitHub refused to update the pull request (HTTP 409: Git Repository is empty.)" },
  ])("quotes GitHub's refusal in the reason: $name", async (tc) => {
    const { fake, deps } = await setup();
    if (tc.open) fake.repos.get("acme/api")!.pulls.push({ number: 41, title: "old", body: "old", head: HEAD, base: "main", draft: false, state: "open", labels: [], requestedReviewers: [], requestedTeams: [], assignees: [] });
    fake.inject({ ...tc.at, ...tc.answer, times: tc.times ?? 1 });
    const got = await openOrUpdatePullRequest(deps, input(tc.noBase ? {} : { base: "main" }), signal);
    expect(got).toEqual({ kind: "failed", reason: tc.want });
  });

  it("keeps a refusal's reason short and free of tokens", async () => {
    const { fake, deps } = await setup();
    const message = `head ${TOKEN} is invalid ${"x".repeat(5000)}`;
    fake.inject({ ...CREATE, status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", code: "custom", message }] } });
    const got = await openOrUpdatePullRequest({ ...deps, secrets: [TOKEN] }, input({ base: "main" }), signal);
    expect(got.kind).toBe("failed");
    const reason = got.kind === "failed" ? got.reason : "";
    expect(reason).toMatch(/^GitHub refused to create the pull request \(HTTP 422: Validation Failed: head \[REDACTED\] is invalid x+…\)$/);
    expect(reason.length).toBeLessThan(400);
    expect(reason).not.toContain(TOKEN);
  });

  it("fails with a clear reason when the rate limit outlasts the retries", async () => {
    const { fake, deps } = await setup({ maxRateLimitRetries: 1 });
    fake.inject({ method: "POST", path: "/repos/acme/api/pulls", status: 403, headers: { "retry-after": "1" }, times: 5 });
    const got = await openOrUpdatePullRequest(deps, input(), signal);
    expect(got).toEqual({ kind: "failed", reason: "GitHub rate limit still in force after retries while trying to create the pull request; try again later" });
  });

  it("reports no changes when the branch has no commits over the base", async () => {
    const { fake, deps } = await setup();
    fake.setBranch("acme/api", HEAD, "a".repeat(40)); // same commit as main
    expect(await openOrUpdatePullRequest(deps, input(), signal)).toEqual({ kind: "no_changes" });
  });

  it("keeps the pull request when reviewers cannot be requested", async () => {
    const { fake, deps, lines } = await setup();
    const got = await openOrUpdatePullRequest(deps, input({}, { pullRequest: { draft: false, labels: [], reviewers: ["mallory"], teamReviewers: [], assignees: [], minIntervalSeconds: 0 } }), signal);
    expect(got).toMatchObject({ kind: "opened" });
    expect(fake.pulls("acme/api")[0]).toMatchObject({ labels: ["cody-batch"], requestedReviewers: [] });
    expect(lines).toContainEqual(expect.objectContaining({ msg: "pull request decoration failed", what: "reviewers", status: 422 }));
  });

  it("takes a rate slot before creating, and fails when none comes in time", async () => {
    const { fake, deps } = await setup();
    const asked: Array<{ jobId: string; minIntervalSeconds: number }> = [];
    const timedOut: PrSlotResult = { kind: "timed_out", reason: "no pull request slot before the time budget ran out: busy" };
    const got = await openOrUpdatePullRequest({ ...deps, acquireSlot: async (req) => (asked.push(req), timedOut) }, input(), signal);
    expect(got).toEqual({ kind: "failed", reason: timedOut.reason });
    expect(asked).toEqual([{ jobId: "j-abc123", minIntervalSeconds: 0 }]);
    expect(fake.pulls("acme/api")).toEqual([]);
  });
});

describe("pullRequestBody", () => {
  it.for([
    {
      name: "a Claude job with a passing verify and a Slack thread",
      in: input(),
      want: [
        "<!-- cody-batch:job=j-abc123 -->",
        "### Instructions\n\n> Upgrade lodash everywhere.",
        "### Summary\n\nUpdated package.json and the lock file.",
        "**Changes:** 2 files, +10 −4",
        "**Verify** `npm test`: ✅ passed",
        "[Slack thread](https://app.slack.com/client/T1/C1/thread/C1-1700000000.000100)",
      ],
      not: ["### Script"],
    },
    {
      name: "a script job whose script holds a code fence, with a failed verify",
      in: input({ verify: { ok: false, reason: "verify failed (exit 1)" }, slackThreadUrl: "https://acme.slack.com/archives/C1/p1" }, { type: "script", prompt: undefined, script: "echo '```'\nsed -i s/a/b/ x" }),
      want: ["### Script\n\n````sh\necho '```'\nsed -i s/a/b/ x\n````", "**Verify** `npm test`: ❌ failed: verify failed (exit 1)", "[Slack thread](https://acme.slack.com/archives/C1/p1)"],
      not: ["### Instructions"],
    },
    {
      name: "a job without Slack, verify or summary",
      in: input({ summary: undefined, verify: undefined }, { verify: undefined, slack: undefined }),
      want: ["<!-- cody-batch:job=j-abc123 -->"],
      not: ["Slack thread", "**Verify**", "### Summary"],
    },
  ])("describes $name", (tc) => {
    const body = pullRequestBody(tc.in);
    for (const w of tc.want) expect(body).toContain(w);
    for (const n of tc.not) expect(body).not.toContain(n);
  });

  it("redacts secrets from the body it sends", async () => {
    const { fake, deps } = await setup();
    await openOrUpdatePullRequest({ ...deps, secrets: ["supersecretvalue"] }, input({ summary: `used supersecretvalue and ${TOKEN}` }), signal);
    const body = fake.pulls("acme/api")[0]!.body!;
    expect(body).not.toContain("supersecretvalue");
    expect(body).not.toContain(TOKEN);
    expect(body).toContain("[REDACTED]");
  });
});
