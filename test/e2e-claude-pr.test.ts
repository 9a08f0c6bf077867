/**
 * A Claude job and a pull-request job through the `cody` CLI, end to end against the fakes:
 * Anthropic's Messages API and GitHub's REST API in this process, real bare git remotes,
 * dynalite and s3rver.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { message, startFakeAnthropic, text, toolUse, type FakeAnthropic, type RecordedRequest } from "./fakes/anthropic.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const API_KEY = "sk-ant-api03-" + "k".repeat(40);
const GH_TOKEN = "ghp_" + "t".repeat(36);
let stack: TestStack;
let remotes: TestRemotes;
let anthropic: FakeAnthropic;
let github: FakeGitHub;

/** A scripted Claude: first turn edits src/app.js, second turn ends with a summary. */
function claude(req: RecordedRequest) {
  const messages = req.body.messages as { role: string; content: unknown }[];
  const last = messages[messages.length - 1]!;
  const answered = Array.isArray(last.content) && (last.content as { type: string }[]).some((b) => b.type === "tool_result");
  if (!answered) {
    return message([text("I will bump the version."), toolUse("str_replace_based_edit_tool", { command: "str_replace", path: "src/app.js", old_str: "version = 1", new_str: "version = 2" })], {
      stop_reason: "tool_use",
      usage: { input_tokens: 1200, output_tokens: 80, cache_creation_input_tokens: 900, cache_read_input_tokens: 0 },
    });
  }
  return message([text("Bumped the version constant in src/app.js from 1 to 2.")], {
    stop_reason: "end_turn",
    usage: { input_tokens: 60, output_tokens: 30, cache_read_input_tokens: 1300, cache_creation_input_tokens: 0 },
  });
}

beforeAll(async () => {
  remotes = tempRemotes();
  for (const n of ["c1", "c2", "p1", "p2"]) remotes.make(`acme/${n}`, { "src/app.js": "export const version = 1;\n" });
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
  anthropic = await startFakeAnthropic(claude);
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
  for (const n of ["p1", "p2"]) github.addRepo(`acme/${n}`, { defaultBranch: "main" });
});

afterAll(async () => {
  await anthropic?.close();
  await github?.close();
  await stack?.stop();
  remotes?.cleanup();
});

const cliEnv = (extra: NodeJS.ProcessEnv) => ({ ...process.env, ...stack.env, LOG_LEVEL: "silent", LOCAL_RUNNER: "inprocess", ...extra });

type JobJson = {
  jobId: string;
  status: string;
  repositories: { repositoryName: string; status: string; error?: string; diffStats?: unknown; transcriptKey?: string; usage?: Record<string, number>; costUsd?: number; summary?: string; prUrl?: string; prNumber?: number }[];
};

describe("a Claude job through the CLI", () => {
  it("completes with a diff, a transcript in S3 without the key, and usage on every row", async () => {
    const r = await runCli(["run", "--repo", "acme/c1", "--repo", "acme/c2", "--prompt", "Bump the version to 2", "--json"], cliEnv({ ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: API_KEY }));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as JobJson;
    expect(job.status).toBe("COMPLETED");
    for (const row of job.repositories) {
      expect(row.status).toBe("COMPLETED");
      expect(row.diffStats).toEqual({ files: 1, additions: 1, deletions: 1 });
      expect(row.summary).toBe("Bumped the version constant in src/app.js from 1 to 2.");
      expect(row.usage).toEqual({ inputTokens: 1260, outputTokens: 110, cacheReadTokens: 1300, cacheWriteTokens: 900 });
      expect(row.costUsd).toBeGreaterThan(0);
      const transcript = await stack.artifacts.get(row.transcriptKey!);
      expect(transcript).toBeDefined();
      expect(transcript).toContain("str_replace_based_edit_tool");
      expect(transcript).not.toContain(API_KEY);
      const diff = await stack.artifacts.get(`diffs/${job.jobId}/${row.repositoryName}.diff`);
      expect(diff).toContain("+export const version = 2;");
    }
    expect((job as unknown as { totals: unknown }).totals).toEqual({ prsOpened: 0, inputTokens: 2520, outputTokens: 220, cacheReadTokens: 2600, cacheWriteTokens: 1800, costMicroUsd: expect.any(Number) });
    expect(anthropic.messageRequests().length).toBe(4);
    // SDK 1.12 sends the key as a bearer token.
    for (const req of anthropic.messageRequests()) expect(req.headers["x-api-key"] ?? req.headers.authorization).toMatch(new RegExp(`^(Bearer )?${API_KEY}$`));
  });
});

describe("verification", () => {
  it("fails a repository whose checks still fail after Claude ends, with the output's tail, and pushes nothing", async () => {
    remotes.make("acme/v1", { "src/app.js": "export const version = 1;\n" });
    const r = await runCli(
      ["run", "--repo", "acme/v1", "--prompt", "Bump the version", "--verify", "echo checking; echo 'expected version 3' >&2; grep -q 'version = 3' src/app.js", "--pr", "--json"],
      // --pr needs GitHub access up front (issue 21): the fake GitHub, which must see no pull request.
      cliEnv({ ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: API_KEY, GITHUB_API_URL: github.url, GITHUB_TOKEN: GH_TOKEN }),
    );
    expect(r.code).toBe(1);
    const row = (JSON.parse(r.stdout) as JobJson).repositories[0]!;
    expect(row.status).toBe("FAILED");
    expect(row.error).toContain("verify command exited with code 1");
    expect(row.error).toContain("expected version 3");
    expect(row.transcriptKey).toBeDefined();
    const branches = execFileSync("git", ["branch", "--list", "cody/*"], { cwd: join(remotes.root, "acme/v1.git"), encoding: "utf8" });
    expect(branches.trim()).toBe("");
  });
});

describe("a pull-request job through the CLI", () => {
  it("pushes the branch, opens one PR per repository and shows the links in its table", async () => {
    const env = cliEnv({ GITHUB_API_URL: github.url, GITHUB_TOKEN: GH_TOKEN });
    const r = await runCli(["run", "--repo", "acme/p1,acme/p2", "--script", "perl -pi -e 's/version = 1/version = 3/' src/app.js", "--pr", "--name", "Bump to 3", "--label", "chore"], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const jobId = /job (j-[a-z0-9]{10}) started/.exec(r.stderr)![1]!;
    for (const n of ["p1", "p2"]) {
      const pulls = github.pulls(`acme/${n}`);
      expect(pulls).toHaveLength(1);
      expect(pulls[0]).toMatchObject({ head: `cody/${jobId}`, base: "main", title: "Bump to 3", state: "open" });
      expect(pulls[0]!.labels).toEqual(expect.arrayContaining(["cody-batch", "chore"]));
      expect(r.stdout).toMatch(new RegExp(`acme/${n}\\s+COMPLETED.*pull/${pulls[0]!.number}`));
      const sha = execFileSync("git", ["rev-parse", `refs/heads/cody/${jobId}`], { cwd: join(remotes.root, `acme/${n}.git`), encoding: "utf8" });
      expect(sha.trim()).toMatch(/^[0-9a-f]{40}$/);
    }
    // The token went to GitHub's API only as a header, never into a remote URL or the output.
    expect(r.stdout + r.stderr).not.toContain(GH_TOKEN);
  });
});

describe("owner/* through the CLI", () => {
  it("expands to the owner's non-archived repositories within the allowlist", async () => {
    github.addRepo("acme/old", { archived: true });
    const env = cliEnv({ GITHUB_API_URL: github.url, GITHUB_TOKEN: GH_TOKEN, ALLOWED_REPOSITORIES: "acme/p1, acme/p2, acme/old" });
    const r = await runCli(["run", "--repo", "acme/*", "--script", "true", "--json"], env);
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as JobJson;
    expect(job.repositories.map((x) => x.repositoryName).sort()).toEqual(["acme/p1", "acme/p2"]);
  });

  it("exits 2 when the owner has no repository one may change", async () => {
    const env = cliEnv({ GITHUB_API_URL: github.url, GITHUB_TOKEN: GH_TOKEN, ALLOWED_REPOSITORIES: "acme/p1" });
    const r = await runCli(["run", "--repo", "nobody/*", "--script", "true"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nobody/* matches no repository you may change");
  });
});
