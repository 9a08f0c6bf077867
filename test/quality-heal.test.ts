/**
 * CI healing (issue 19) through the `cody` CLI (in-process runners), the GitHub fake (check runs
 * with output and annotations, commit statuses), the Anthropic fake, real bare git remotes,
 * dynalite and s3rver: one new commit on the PR's branch, never a force-push; attempts recorded
 * and bounded; a failure shared by many PRs reported once and healed on none.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { message, startFakeAnthropic, text, toolUse, type FakeAnthropic, type FakeReply, type RecordedRequest } from "./fakes/anthropic.ts";
import { startFakeGitHub, type FakeCheckRun, type FakeGitHub } from "./fakes/github.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const API_KEY = "sk-ant-api03-" + "h".repeat(40);
const GH_TOKEN = "ghp_" + "h".repeat(36);
const EDITOR = "str_replace_based_edit_tool";
let stack: TestStack;
let remotes: TestRemotes;
let github: FakeGitHub;
let anthropic: FakeAnthropic;

/** First the change (version 2), then, asked to heal, the missing export; a summary after tool results. */
function claude(req: RecordedRequest): FakeReply {
  const system = JSON.stringify(req.body.system);
  const blocks = req.body.messages.at(-1).content as { type: string }[];
  if (blocks.some((b) => b.type === "tool_result")) return message([text(system.includes("failing_checks") ? "Exported VERSION_LABEL, which the test needs." : "Bumped the version to 2.")]);
  if (system.includes("failing_checks")) {
    return message([toolUse(EDITOR, { command: "str_replace", path: "src/app.js", old_str: "export const version = 2;", new_str: 'export const version = 2;\nexport const VERSION_LABEL = "v2";' })]);
  }
  return message([toolUse(EDITOR, { command: "str_replace", path: "src/app.js", old_str: "version = 1", new_str: "version = 2" })]);
}

beforeAll(async () => {
  remotes = tempRemotes();
  for (const n of ["h1", "h2", ...Array.from({ length: 10 }, (_, i) => `s${i + 1}`)]) remotes.make(`acme/${n}`, { "src/app.js": "export const version = 1;\n" });
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
  for (const n of ["h1", "h2", ...Array.from({ length: 10 }, (_, i) => `s${i + 1}`)]) github.addRepo(`acme/${n}`, { defaultBranch: "main" });
  anthropic = await startFakeAnthropic(claude);
});
afterAll(async () => {
  await anthropic?.close();
  await github?.close();
  await stack?.stop();
  remotes?.cleanup();
});

const env = () => ({ ...process.env, ...stack.env, LOG_LEVEL: "silent", LOCAL_RUNNER: "inprocess", GITHUB_API_URL: github.url, GITHUB_TOKEN: GH_TOKEN, ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: API_KEY });
const git = (repo: string, ...args: string[]) => execFileSync("git", args, { cwd: join(remotes.root, `${repo}.git`), encoding: "utf8" }).trim();

type Row = { repositoryName: string; status: string; prUrl?: string; commitSha?: string; heals?: { outcome: string; commitSha?: string; checks: string[]; reason?: string }[] };
type HealJson = { action: { counts: Record<string, number>; all: { repository: string; kind: string; reason?: string }[] }; job: { systematic?: { check: string; firstLine: string; repositories: string[] }[]; repositories?: Row[] } };

async function runPrJob(repos: string[], extra: string[]): Promise<string> {
  const r = await runCli(["run", ...repos.flatMap((x) => ["--repo", x]), "--pr", "--json", ...extra], env(), 90_000);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { jobId: string }).jobId;
}

async function heal(jobId: string): Promise<{ code: number | null; json: HealJson; stderr: string }> {
  const r = await runCli(["heal", jobId, "--json"], env(), 90_000);
  return { code: r.code, json: JSON.parse(r.stdout) as HealJson, stderr: r.stderr };
}

const failingTest = (message: string): FakeCheckRun => ({
  name: "test",
  status: "completed",
  conclusion: "failure",
  output: { title: "1 test failed", summary: "src/app.test.js: 1 failed, 3 passed" },
  annotations: [{ path: "src/app.test.js", start_line: 2, annotation_level: "failure", message }],
});
const green: FakeCheckRun = { name: "test", status: "completed", conclusion: "success" };

describe("healing a PR whose checks fail", () => {
  it("pushes one new commit on the same branch with the checks' output as context; once green, nothing is left to heal", async () => {
    const jobId = await runPrJob(["acme/h1"], ["--prompt", "Bump the version to 2"]);
    const branch = `cody/${jobId}`;
    const before = git("acme/h1", "rev-parse", branch);
    github.setCheckRuns("acme/h1", branch, [failingTest("AssertionError: expected VERSION_LABEL to be exported from src/app.js")]);
    github.setStatuses("acme/h1", branch, [{ context: "lint", state: "failure", description: "eslint: 1 error in src/app.js" }]);
    const agentBefore = anthropic.messageRequests().length;

    const first = await heal(jobId);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.action.counts).toEqual({ launched: 1 });
    const after = git("acme/h1", "rev-parse", branch);
    expect(after).not.toBe(before);
    // One commit on top of the old head: not a force-push, not a rewrite.
    expect(git("acme/h1", "rev-parse", `${after}^`)).toBe(before);
    expect(git("acme/h1", "rev-list", "--count", `main..${branch}`)).toBe("2");
    expect(git("acme/h1", "show", `${branch}:src/app.js`)).toContain('export const VERSION_LABEL = "v2";');
    const healRequest = anthropic.messageRequests()[agentBefore]!;
    const system = JSON.stringify(healRequest.body.system);
    expect(system).toContain("AssertionError: expected VERSION_LABEL to be exported from src/app.js");
    expect(system).toContain("src/app.test.js:2");
    expect(system).toContain("eslint: 1 error in src/app.js");
    expect(JSON.stringify(anthropic.judgeRequests().at(-1)!.body.messages)).toContain("failing_checks");
    const row = first.json.job.repositories!.find((r) => r.repositoryName === "acme/h1")!;
    expect(row.status).toBe("COMPLETED");
    expect(row.prUrl).toBeDefined();
    expect(row.heals).toEqual([expect.objectContaining({ outcome: "pushed", commitSha: after, checks: ["test", "lint"] })]);
    expect(github.pulls("acme/h1")).toHaveLength(1);

    github.setCheckRuns("acme/h1", branch, [green]);
    github.setStatuses("acme/h1", branch, [{ context: "lint", state: "success" }]);
    const requests = anthropic.messageRequests().length;
    const second = await heal(jobId);
    expect(second.code).toBe(0);
    expect(second.json.action.counts).toEqual({ passing: 1 });
    expect(anthropic.messageRequests().length).toBe(requests);
    expect(git("acme/h1", "rev-parse", branch)).toBe(after);
  }, 120_000);

  it("heals on `cody refresh` with --heal 1, then stops when the attempts run out: the PR is reported exhausted and left alone", async () => {
    const jobId = await runPrJob(["acme/h2"], ["--prompt", "Bump the version to 2", "--heal", "1"]);
    const branch = `cody/${jobId}`;
    const before = git("acme/h2", "rev-parse", branch);
    github.setCheckRuns("acme/h2", branch, [failingTest("AssertionError: expected VERSION_LABEL to be exported from src/app.js")]);
    // Tracking sees the failing checks and, the job having --heal 1, heals at once.
    const refreshed = await runCli(["refresh", jobId], env(), 90_000);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    const head = git("acme/h2", "rev-parse", branch);
    expect(git("acme/h2", "rev-parse", `${head}^`)).toBe(before);
    const row = (await stack.store.listRepos(jobId))[0]!;
    expect(row.heals).toEqual([expect.objectContaining({ outcome: "pushed", commitSha: head })]);
    // The healing commit is recorded as Cody's last push: the PR is not "edited by others".
    expect(row.pushedSha).toBe(head);
    // The fix did not make CI green.
    github.setCheckRuns("acme/h2", branch, [failingTest("AssertionError: VERSION_LABEL should be \"2\"")]);
    const requests = anthropic.messageRequests().length;
    const second = await heal(jobId);
    expect(second.code).toBe(0);
    expect(second.json.action.counts).toEqual({ exhausted: 1 });
    expect(second.json.action.all[0]!.reason).toBe("1 healing attempt made (at most 1); checks still fail");
    expect(anthropic.messageRequests().length).toBe(requests);
    expect(git("acme/h2", "rev-parse", branch)).toBe(head);
  }, 120_000);

  it("reports a failure shared by 4 of 10 PRs once as systematic and heals none of them", async () => {
    const repos = Array.from({ length: 10 }, (_, i) => `acme/s${i + 1}`);
    const jobId = await runPrJob(repos, ["--script", "perl -pi -e 's/version = 1/version = 2/' src/app.js"]);
    const branch = `cody/${jobId}`;
    for (const r of repos.slice(0, 4)) {
      github.setCheckRuns(r, branch, [{ name: "build", status: "completed", conclusion: "failure", output: { title: "tsc", text: "src/app.ts(3,7): error TS2304: Cannot find name 'http'.\nFound 1 error." } }]);
    }
    for (const r of repos.slice(4)) github.setCheckRuns(r, branch, [green]);
    const heads = repos.map((r) => git(r, "rev-parse", branch));
    const requests = anthropic.messageRequests().length + anthropic.judgeRequests().length;

    const first = await heal(jobId);
    expect(first.code).toBe(0);
    expect(first.json.action.counts).toEqual({ systematic: 4, passing: 6 });
    expect(first.json.job.systematic).toEqual([
      expect.objectContaining({ check: "build", firstLine: "src/app.ts(3,7): error TS2304: Cannot find name 'http'.", repositories: repos.slice(0, 4) }),
    ]);
    expect(first.stderr.match(/Systematic failure: check "build"/g)).toHaveLength(1);

    const second = await heal(jobId);
    expect(second.json.action.counts).toEqual({ systematic: 4, passing: 6 });
    expect(second.json.job.systematic).toHaveLength(1);
    expect(second.stderr).not.toContain("Systematic failure");
    expect(anthropic.messageRequests().length + anthropic.judgeRequests().length).toBe(requests);
    expect(repos.map((r) => git(r, "rev-parse", branch))).toEqual(heads);

    const status = await runCli(["status", jobId], env());
    expect(status.stdout).toContain("systematic failure: \"build\" fails with \"src/app.ts(3,7): error TS2304: Cannot find name 'http'.\" on 4 PRs (not healed)");
  }, 150_000);
});
