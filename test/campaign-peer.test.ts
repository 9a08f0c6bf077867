/**
 * Peer parity on branches and PRs (issues 24 and 25) through the `cody` CLI, against the GitHub
 * fake over real bare `file://` remotes, dynalite and s3rver: people's commits on a Cody branch
 * are kept, refused or replaced, never lost; one branch lasts across jobs and keeps its PR; a
 * campaign is rebuilt from GitHub after the store is gone; "No commits between" leaves no branch;
 * a repository named twice runs once; campaign commands without GitHub credentials send nothing;
 * a refresh answered with 304s is quiet.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const GH_TOKEN = "ghp_" + "p".repeat(36);
const REPO = "acme/peer-a";
const BRANCH = "bump/version";

let stack: TestStack;
let remotes: TestRemotes;
let github: FakeGitHub;

beforeAll(async () => {
  remotes = tempRemotes();
  for (const r of [REPO, "acme/peer-b", "acme/peer-c"]) remotes.make(r, { "src/app.js": "export const version = 1;\n", "README.md": "hello\n" });
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
  for (const r of [REPO, "acme/peer-b", "acme/peer-c"]) github.addRepo(r);
});

afterAll(async () => {
  await github?.close();
  await stack?.stop();
  remotes?.cleanup();
});

const envOf = (s: TestStack, extra: NodeJS.ProcessEnv = {}) => ({
  ...process.env,
  ...s.env,
  LOG_LEVEL: "silent",
  LOCAL_RUNNER: "inprocess",
  GITHUB_API_URL: github.url,
  GITHUB_TOKEN: GH_TOKEN,
  GITHUB_WRITE_INTERVAL_MS: "0",
  GITHUB_NOTIFY_INTERVAL_MS: "0",
  ...extra,
});
const cody = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, envOf(stack, extra), 120_000);

type Row = { repositoryName: string; status: string; error?: string; prNumber?: number; branch?: string; pushedSha?: string; editedByOthers?: number };
type JobJson = { jobId: string; status: string; branch?: string; repositories: Row[] };

const bare = (repo: string) => join(remotes.root, `${repo}.git`);
const git = (dir: string, args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
const headOf = (repo: string, branch: string) => git(bare(repo), ["rev-parse", `refs/heads/${branch}`]);
const hasBranch = (repo: string, branch: string) => git(bare(repo), ["for-each-ref", "--format=%(refname)", `refs/heads/${branch}`]) !== "";
/** Commit subjects on `branch` above main, newest first. */
const subjects = (repo: string, branch: string) => git(bare(repo), ["log", "--format=%s", `main..${branch}`]).split("\n").filter(Boolean);
const fileAt = (repo: string, branch: string, path: string) => git(bare(repo), ["show", `${branch}:${path}`]);

/** Someone else (Dana) pushes a commit writing `content` to `path` on `branch`; returns its sha. */
function pushAsDana(repo: string, branch: string, path: string, content: string, subject: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cody-dana-"));
  try {
    git(dir, ["clone", "-q", "--branch", branch, `file://${bare(repo)}`, "."]);
    writeFileSync(join(dir, path), content);
    git(dir, ["add", "-A"]);
    git(dir, ["-c", "user.name=Dana", "-c", "user.email=dana@example.com", "commit", "-q", "-m", subject]);
    git(dir, ["push", "-q", "origin", `HEAD:refs/heads/${branch}`]);
    return git(dir, ["rev-parse", "HEAD"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bump = (to: number) => `perl -pi -e 's/version = 1/version = ${to}/' src/app.js`;

async function run(args: string[]): Promise<{ code: number | null; job: JobJson; stderr: string }> {
  const r = await cody(["run", ...args, "--json"]);
  return { code: r.code, job: JSON.parse(r.stdout) as JobJson, stderr: r.stderr };
}

describe("a branch lasting across jobs, with people's commits on it (issue 24)", () => {
  it("keeps, refuses, skips or replaces others' commits, and updates the same PR", async () => {
    // Job 1 opens the PR on the lasting branch.
    const first = await run(["--repo", REPO, "--script", bump(2), "--name", "Bump version", "--pr", "--branch", BRANCH]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.job.branch).toBe(BRANCH);
    const number = first.job.repositories[0]!.prNumber!;
    expect(number).toBeGreaterThan(0);
    expect(first.job.repositories[0]!.pushedSha).toBe(headOf(REPO, BRANCH));

    // Dana fixes the README on Cody's branch; job 2 (same change, default keep) rebases its new commit under hers.
    pushAsDana(REPO, BRANCH, "README.md", "hello from Dana\n", "Dana's README fix");
    const second = await run(["--repo", REPO, "--script", bump(2), "--name", "Bump version", "--pr", "--branch", BRANCH]);
    expect(second.code, second.stderr).toBe(0);
    const row2 = second.job.repositories[0]!;
    expect(row2).toMatchObject({ status: "COMPLETED", prNumber: number, editedByOthers: 1 });
    expect(subjects(REPO, BRANCH)).toEqual(["Dana's README fix", "Bump version"]);
    expect(fileAt(REPO, BRANCH, "README.md")).toBe("hello from Dana");
    expect(fileAt(REPO, BRANCH, "src/app.js")).toBe("export const version = 2;");
    expect(git(bare(REPO), ["log", "-1", "--format=%B", `${BRANCH}~1`])).toContain(`Cody Batch job ${second.job.jobId}`);
    const pulls = github.pulls(REPO).filter((p) => p.head === BRANCH);
    expect(pulls.map((p) => p.number)).toEqual([number]);
    expect(pulls[0]!.body).toContain(`<!-- cody-batch:job=${second.job.jobId} -->`);
    expect(pulls[0]!.body).toContain(`\`${first.job.jobId}\`, \`${second.job.jobId}\``);

    // The tracked row says the branch holds others' commits.
    const refreshed = await cody(["refresh", second.job.jobId]);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toContain("edited by others");

    // Dana changes the line job 3 changes differently: refused, nothing pushed.
    const danas = pushAsDana(REPO, BRANCH, "src/app.js", "export const version = 3;\n", "Dana picks 3");
    const third = await run(["--repo", REPO, "--script", bump(5), "--name", "Bump version", "--pr", "--branch", BRANCH]);
    expect(third.code).toBe(1);
    expect(third.job.repositories[0]).toMatchObject({ status: "FAILED", error: "the branch has 2 commits by others; rerun with --on-conflict replace to overwrite" });
    expect(headOf(REPO, BRANCH)).toBe(danas);

    // skip leaves the repository alone; replace overwrites.
    const skipped = await run(["--repo", REPO, "--script", bump(5), "--pr", "--branch", BRANCH, "--on-conflict", "skip"]);
    expect(skipped.job.repositories[0]).toMatchObject({ status: "NO_CHANGES", error: "skipped: the branch has 2 commits by others (--on-conflict skip)" });
    expect(headOf(REPO, BRANCH)).toBe(danas);
    const replaced = await run(["--repo", REPO, "--script", bump(5), "--name", "Bump version", "--pr", "--branch", BRANCH, "--on-conflict", "replace"]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.job.repositories[0]).toMatchObject({ status: "COMPLETED", prNumber: number, editedByOthers: 0 });
    expect(subjects(REPO, BRANCH)).toEqual(["Bump version"]);
    expect(fileAt(REPO, BRANCH, "src/app.js")).toBe("export const version = 5;");
    expect(github.pulls(REPO).filter((p) => p.head === BRANCH)).toHaveLength(1);
  });

  it("cody import rebuilds the job from the branch's PRs after the store is gone; refresh and merge work on it", async () => {
    const fresh = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
    try {
      const inFresh = (args: string[]) => runCli(args, envOf(fresh), 120_000);
      const pull = github.pulls(REPO).find((p) => p.head === BRANCH && p.state === "open")!;
      const imported = await inFresh(["import", "--branch", BRANCH, "--repo", REPO, "--json"]);
      expect(imported.code, imported.stderr).toBe(0);
      const job = JSON.parse(imported.stdout) as JobJson & { campaign?: Record<string, number> };
      expect(pull.body).toContain(`<!-- cody-batch:job=${job.jobId} -->`);
      expect(job).toMatchObject({ status: "COMPLETED", branch: BRANCH });
      expect(job.repositories).toEqual([expect.objectContaining({ repositoryName: REPO, status: "COMPLETED", prNumber: pull.number, branch: BRANCH })]);
      expect(job.campaign).toMatchObject({ prs: 1, open: 1, noChecks: 1 });
      // Importing again refuses: the job is there.
      const again = await inFresh(["import", "--branch", BRANCH, "--repo", REPO]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain(`job ${job.jobId} is in the store already`);

      github.setCheckRuns(REPO, BRANCH, [{ name: "ci", status: "completed", conclusion: "success" }]);
      github.addReview(REPO, pull.number, "reviewer", "APPROVED");
      const refreshed = await inFresh(["refresh", job.jobId, "--json"]);
      expect(refreshed.code, refreshed.stderr).toBe(0);
      expect(JSON.parse(refreshed.stdout)).toMatchObject({ refreshed: 1, summary: { open: 1, passing: 1, approved: 1 } });
      const merged = await inFresh(["merge", job.jobId, "--json"]);
      expect(merged.code, merged.stderr).toBe(0);
      expect(JSON.parse(merged.stdout).action.counts).toEqual({ merged: 1 });
      expect(pull.merged).toBe(true);
      expect(hasBranch(REPO, BRANCH)).toBe(false);
    } finally {
      await fresh.stop();
    }
  });

  it("cody import JOB_ID finds the PRs of cody/JOB_ID through GitHub's search, and close then removes the branch", async () => {
    const ran = await run(["--repo", "acme/peer-b", "--script", bump(2), "--pr"]);
    expect(ran.code, ran.stderr).toBe(0);
    const jobId = ran.job.jobId;
    const fresh = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
    try {
      const inFresh = (args: string[]) => runCli(args, envOf(fresh), 120_000);
      const imported = await inFresh(["import", jobId, "--json"]);
      expect(imported.code, imported.stderr).toBe(0);
      expect((JSON.parse(imported.stdout) as JobJson).repositories.map((r) => r.repositoryName)).toEqual(["acme/peer-b"]);
      const closed = await inFresh(["close", jobId, "--json"]);
      expect(closed.code, closed.stderr).toBe(0);
      expect(JSON.parse(closed.stdout).action.counts).toEqual({ closed: 1 });
      expect(hasBranch("acme/peer-b", `cody/${jobId}`)).toBe(false);
    } finally {
      await fresh.stop();
    }
  });
});

describe("nothing left behind, nothing run twice (issue 24)", () => {
  it("deletes the pushed branch when GitHub answers No commits between", async () => {
    github.inject({ method: "POST", path: "/repos/acme/peer-c/pulls", status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", code: "custom", message: "No commits between main and cody/x" }] } });
    const r = await run(["--repo", "acme/peer-c", "--script", bump(2), "--pr"]);
    expect(r.job.repositories[0]!.status).toBe("NO_CHANGES");
    expect(hasBranch("acme/peer-c", `cody/${r.job.jobId}`)).toBe(false);
  });

  it("refuses a --branch that is the repository's base branch, pushing nothing", async () => {
    const before = headOf("acme/peer-c", "main");
    const r = await run(["--repo", "acme/peer-c", "--script", bump(4), "--pr", "--branch", "main"]);
    expect(r.job.repositories[0]).toMatchObject({ status: "FAILED", error: "the branch main is the base branch of acme/peer-c; choose another --branch" });
    expect(headOf("acme/peer-c", "main")).toBe(before);
  });

  it("warns once about a repository given twice and runs it once", async () => {
    const r = await run(["--repo", "acme/peer-c", "--repo", "ACME/peer-c", "--repo", "acme/peer-c", "--script", "true"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/acme\/peer-c given twice/g)).toHaveLength(1);
    expect(r.job.repositories).toHaveLength(1);
  });
});

describe("campaign commands and GitHub (issue 25)", () => {
  it("refuse with exit 2 and one line, sending nothing, when no credentials are configured whatever GITHUB_API_URL says", async () => {
    const r = await run(["--repo", "acme/peer-c", "--script", "true"]);
    const before = github.requests.length;
    for (const command of ["merge", "close", "refresh", "update"]) {
      const out = await cody([command, r.job.jobId], { GITHUB_TOKEN: "" });
      expect(out.code, command).toBe(2);
      expect(out.stderr.trim().split("\n")[0]).toBe(`cody: ${command} needs GitHub access: set GITHUB_TOKEN (or a GitHub App); nothing was sent`);
    }
    expect(github.requests.length).toBe(before);
  });

  it("a refresh of unchanged PRs writes nothing on stderr at the default log level; merge green needs --allow-no-checks for a PR without checks", async () => {
    const r = await run(["--repo", "acme/peer-b", "--script", bump(7), "--pr"]);
    expect(r.code, r.stderr).toBe(0);
    const quiet = { LOG_LEVEL: undefined as unknown as string };
    const first = await cody(["refresh", r.job.jobId], quiet);
    expect(first.code, first.stderr).toBe(0);
    const before = github.requests.length;
    const second = await cody(["refresh", r.job.jobId], quiet);
    expect(second.code).toBe(0);
    expect(github.requests.slice(before).filter((q) => q.status === 304).length).toBeGreaterThan(0);
    expect(second.stderr).toBe("");

    // No check ran on the PR: merge green leaves it open until --allow-no-checks.
    const pull = github.pulls("acme/peer-b").find((p) => p.head === `cody/${r.job.jobId}`)!;
    github.addReview("acme/peer-b", pull.number, "reviewer", "APPROVED");
    const skipped = await cody(["merge", r.job.jobId, "--json"]);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(JSON.parse(skipped.stdout).action.all).toEqual([{ repository: "acme/peer-b", kind: "skipped", reason: "no checks ran; merge with --allow-no-checks" }]);
    expect(pull.merged).toBeUndefined();
    const merged = await cody(["merge", r.job.jobId, "--allow-no-checks", "--json"]);
    expect(JSON.parse(merged.stdout).action.counts).toEqual({ merged: 1 });
    expect(pull.merged).toBe(true);
    expect(hasBranch("acme/peer-b", `cody/${r.job.jobId}`)).toBe(false);
  });
});
