/**
 * The campaign end to end through the `cody` CLI (issue 12's "done when"): a 20-repository job
 * goes preview → publish → some checks fail → retry failed → merge green → close rest, against the
 * GitHub fake (real bare git remotes), dynalite and s3rver, with every repository accounted for
 * at each step.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { runCli } from "./support/cli.ts";
import { sharedDir, type SharedDir } from "./support/shared-dir.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const GH_TOKEN = "ghp_" + "c".repeat(36);
const REPOS = Array.from({ length: 20 }, (_, i) => `acme/svc-${String(i).padStart(2, "0")}`);
/** Repositories the script leaves alone (no `version = 1`) and ones whose first run fails. */
const UNCHANGED = new Set(["acme/svc-18", "acme/svc-19"]);
const FLAKY = ["acme/svc-03", "acme/svc-07"];
/** PRs whose checks fail (lint) after publishing. */
const RED = ["acme/svc-01", "acme/svc-02", "acme/svc-05", "acme/svc-11"];

let stack: TestStack;
let remotes: TestRemotes;
let github: FakeGitHub;
let shared: SharedDir;
let flags: string;

beforeAll(async () => {
  remotes = tempRemotes();
  // Not under /tmp: a sandboxed script sees its own empty /tmp (runner/sandbox-box.ts); see test/support/shared-dir.ts.
  shared = sharedDir("cody-campaign-flags-");
  flags = shared.path;
  for (const r of REPOS) {
    remotes.make(r, { "src/app.js": UNCHANGED.has(r) ? "export const version = 9;\n" : "export const version = 1;\n" });
  }
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
  for (const r of REPOS) github.addRepo(r);
  for (const r of FLAKY) writeFileSync(join(flags, r.replace("/", "_")), "fail\n");
});

afterAll(async () => {
  await github?.close();
  await stack?.stop();
  remotes?.cleanup();
  shared?.cleanup();
});

const env = () => ({
  ...process.env,
  ...stack.env,
  LOG_LEVEL: "silent",
  LOCAL_RUNNER: "inprocess",
  GITHUB_API_URL: github.url,
  GITHUB_TOKEN: GH_TOKEN,
  GITHUB_WRITE_INTERVAL_MS: "0",
  GITHUB_NOTIFY_INTERVAL_MS: "0",
});
const cody = (args: string[]) => runCli(args, env(), 120_000);

type Row = { repositoryName: string; status: string; attempt: number; finishedAt?: string; prNumber?: number; error?: string; pr?: { state: string; checks: string; review: string; failingChecks: string[] } };
type JobJson = { jobId: string; status: string; counters: Record<string, number>; campaign?: Record<string, number>; actions?: { action: string; by: string; counts: Record<string, number> }[]; repositories: Row[] };
type ActionJson = { action: { action: string; counts: Record<string, number>; all: { repository: string; kind: string; reason?: string }[] }; job?: JobJson };

/** The script: logs every run (so a test can tell it did not run again), fails while a flag file exists. */
const SCRIPT = (log: string) =>
  `echo "$CODY_REPOSITORY" >> ${log}; test -e "${flags}/$(echo "$CODY_REPOSITORY" | tr / _)" && exit 3; perl -pi -e 's/version = 1/version = 2/' src/app.js`;

function green(repo: string, jobId: string) {
  github.setCheckRuns(repo, `cody/${jobId}`, [{ name: "build", status: "completed", conclusion: "success" }]);
  const pull = github.pulls(repo).find((p) => p.head === `cody/${jobId}`)!;
  github.addReview(repo, pull.number, "reviewer", "APPROVED");
}

async function status(jobId: string): Promise<JobJson> {
  const r = await cody(["status", jobId, "--json"]);
  return JSON.parse(r.stdout) as JobJson;
}

/** Every repository of the job appears exactly once in an action's results. */
function accountedFor(a: ActionJson) {
  expect(a.action.all.map((r) => r.repository).sort()).toEqual([...REPOS].sort());
}

describe("a 20-repository campaign through the CLI", () => {
  it("goes preview → publish → checks fail → retry failed → merge green → close rest", async () => {
    const ranLog = shared.log("ran.log");
    const ran = ranLog.path;
    // 1. Preview: no PRs. 16 change, 2 need no change, 2 fail.
    const preview = await cody(["run", ...REPOS.flatMap((r) => ["--repo", r]), "--script", SCRIPT(ran), "--name", "Bump to 2", "--json"]);
    expect(preview.code, preview.stderr).toBe(1);
    const job = JSON.parse(preview.stdout) as JobJson;
    const jobId = job.jobId;
    expect(job.counters).toMatchObject({ total: 20, completed: 16, noChanges: 2, failed: 2 });
    expect(REPOS.every((r) => github.pulls(r).length === 0)).toBe(true);
    expect(ranLog.read().trim().split("\n")).toHaveLength(20);

    // 2. Publish: exactly one PR per changed repository, from the stored diffs; no script runs.
    const pub = await cody(["publish", jobId, "--json"]);
    expect(pub.code, pub.stderr).toBe(0);
    const published = JSON.parse(pub.stdout) as ActionJson;
    accountedFor(published);
    expect(published.action.counts).toEqual({ launched: 16, skipped: 4 });
    expect(ranLog.read().trim().split("\n")).toHaveLength(20);
    const changed = REPOS.filter((r) => !UNCHANGED.has(r) && !FLAKY.includes(r));
    for (const r of REPOS) {
      const pulls = github.pulls(r);
      expect(pulls, r).toHaveLength(changed.includes(r) ? 1 : 0);
      if (pulls[0]) expect(pulls[0]).toMatchObject({ head: `cody/${jobId}`, base: "main", state: "open", title: "Bump to 2" });
    }
    const branchFile = execFileSync("git", ["show", `cody/${jobId}:src/app.js`], { cwd: join(remotes.root, "acme/svc-00.git"), encoding: "utf8" });
    expect(branchFile).toBe("export const version = 2;\n");
    expect(published.job!.counters).toMatchObject({ total: 20, completed: 16, noChanges: 2, failed: 2 });

    // 3. Checks: most green and approved, four red.
    for (const r of changed) {
      if (RED.includes(r)) github.setCheckRuns(r, `cody/${jobId}`, [{ name: "lint", status: "completed", conclusion: "failure" }]);
      else green(r, jobId);
    }
    const refreshed = await cody(["refresh", jobId, "--json"]);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(JSON.parse(refreshed.stdout).summary).toMatchObject({ prs: 16, open: 16, passing: 12, failing: 4, approved: 12 });
    // --wide: PR STATE, CHECKS and REVIEW in their own columns (the default table joins them in one cell, scripts/cli-display.ts).
    const table = await cody(["status", jobId, "--wide"]);
    expect(table.stdout).toMatch(/acme\/svc-01\s+COMPLETED.*open\s+failing: lint\s+review required/);

    // 4. Retry the failed ones: only those two rows move, in the same job, and they get PRs.
    for (const r of FLAKY) rmSync(join(flags, r.replace("/", "_")));
    const before = await status(jobId);
    const retry = await cody(["retry", jobId, "--failed", "--json"]);
    expect(retry.code, retry.stderr).toBe(0);
    const retried = JSON.parse(retry.stdout) as ActionJson;
    accountedFor(retried);
    expect(retried.action.counts).toEqual({ launched: 2, skipped: 18 });
    expect(ranLog.read().trim().split("\n").slice(20).sort()).toEqual(FLAKY);
    const after = retried.job!;
    expect(after.counters).toMatchObject({ total: 20, completed: 18, noChanges: 2, failed: 0 });
    expect(after.status).toBe("COMPLETED");
    for (const row of after.repositories) {
      const old = before.repositories.find((r) => r.repositoryName === row.repositoryName)!;
      if (FLAKY.includes(row.repositoryName)) {
        expect(row.status).toBe("COMPLETED");
        expect(row.prNumber).toBeDefined();
      } else {
        expect(row).toMatchObject({ status: old.status, attempt: old.attempt, finishedAt: old.finishedAt });
      }
    }
    for (const r of FLAKY) green(r, jobId);

    // 5. Merge: green + approved ones only; red ones stay with their reason.
    const merge = await cody(["merge", jobId, "--json"]);
    expect(merge.code, merge.stderr).toBe(0);
    const merged = JSON.parse(merge.stdout) as ActionJson;
    accountedFor(merged);
    expect(merged.action.counts).toEqual({ merged: 14, skipped: 6 });
    for (const r of RED) expect(merged.action.all.find((x) => x.repository === r)).toEqual({ repository: r, kind: "skipped", reason: "checks failing: lint" });
    expect(github.pulls("acme/svc-00")[0]).toMatchObject({ merged: true, state: "closed" });

    // 6. Close the rest, with a comment and their branches deleted.
    const close = await cody(["close", jobId, "--comment", "Superseded by a manual fix", "--delete-branch", "--json"]);
    expect(close.code, close.stderr).toBe(0);
    const closed = JSON.parse(close.stdout) as ActionJson;
    accountedFor(closed);
    expect(closed.action.counts).toEqual({ closed: 4, skipped: 16 });
    for (const r of RED) {
      expect(github.pulls(r)[0]).toMatchObject({ state: "closed", comments: ["Superseded by a manual fix"] });
      expect(github.pulls(r)[0]!.merged).not.toBe(true);
      expect(execFileSync("git", ["for-each-ref", `refs/heads/cody/${jobId}`], { cwd: join(remotes.root, `${r}.git`), encoding: "utf8" })).toBe("");
    }

    const end = await status(jobId);
    expect(end.campaign).toMatchObject({ prs: 18, merged: 14, closed: 4, open: 0 });
    expect(end.actions!.map((a) => a.action)).toEqual(["publish", "retry", "merge", "close"]);
    const states = new Map(end.repositories.map((r) => [r.repositoryName, r.pr?.state ?? "none"]));
    expect([...states.values()].filter((s) => s === "merged")).toHaveLength(14);
    expect([...states.values()].filter((s) => s === "closed")).toHaveLength(4);
    expect([...UNCHANGED].map((r) => states.get(r))).toEqual(["none", "none"]);
    const text = await cody(["status", jobId]);
    expect(text.stdout).toContain("Campaign: 14 merged · 0 open · 4 closed · done ✔");
  }, 240_000);

  it("update redoes the change on the moved base of a PR that is behind, force-pushing the same PR's branch", async () => {
    const repo = "acme/upd-1";
    remotes.make(repo, { "src/app.js": "export const version = 1;\n", "README": "a\n" });
    github.addRepo(repo);
    const ranLog = shared.log("upd.log");
    const ran = ranLog.path;
    const run = await cody(["run", "--repo", repo, "--script", SCRIPT(ran), "--pr", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const jobId = (JSON.parse(run.stdout) as JobJson).jobId;
    const pr = github.pulls(repo)[0]!;
    // Someone moves main: the PR's branch is now behind it.
    const bare = join(remotes.root, `${repo}.git`);
    const work = mkdtempSync(join(tmpdir(), "cody-upd-"));
    const git = (args: string[]) => execFileSync("git", args, { cwd: work, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
    git(["clone", "-q", bare, "."]);
    writeFileSync(join(work, "README"), "b\n");
    git(["commit", "-qam", "Move main"]);
    git(["push", "-q", "origin", "HEAD:main"]);
    const newMain = git(["rev-parse", "HEAD"]).trim();
    rmSync(work, { recursive: true, force: true });

    const upd = await cody(["update", jobId, "--json"]);
    expect(upd.code, upd.stderr).toBe(0);
    const updated = JSON.parse(upd.stdout) as ActionJson;
    expect(updated.action.all).toEqual([{ repository: repo, kind: "launched" }]);
    expect(ranLog.read().trim().split("\n")).toHaveLength(2);
    expect(github.pulls(repo)).toHaveLength(1);
    expect(github.pulls(repo)[0]!.number).toBe(pr.number);
    const parent = execFileSync("git", ["rev-parse", `cody/${jobId}^`], { cwd: bare, encoding: "utf8" }).trim();
    expect(parent).toBe(newMain);
    expect(updated.job!.repositories[0]).toMatchObject({ status: "COMPLETED", prNumber: pr.number });
    // Now up to date: a second update leaves it alone, saying so.
    const again = JSON.parse((await cody(["update", jobId, "--json"])).stdout) as ActionJson;
    expect(again.action.all).toEqual([{ repository: repo, kind: "up_to_date", reason: "up to date with main" }]);
  }, 120_000);
});

describe("campaign commands refuse bad input with exit 2", () => {
  it.for([
    { name: "a job that does not exist", args: ["merge", "j-doesnotexi"], text: "no job j-doesnotexi" },
    { name: "an unknown merge method", args: ["merge", "j-doesnotexi", "--method", "fast"], text: "--method takes squash, merge or rebase" },
    { name: "--failed with --repo", args: ["retry", "j-doesnotexi", "--failed", "--repo", "acme/x"], text: "not both" },
    { name: "an option of another command", args: ["close", "j-doesnotexi", "--force"], text: "close takes no --force" },
    { name: "no job id", args: ["publish"], text: "publish needs a job id" },
  ])("$name", async (tc) => {
    const r = await cody(tc.args);
    expect(r.stderr).toContain(tc.text);
    expect(r.code).toBe(2);
  });
});
