/**
 * Git over HTTPS-style smart HTTP with a token, through the runner: the token reaches the server
 * as a Basic Authorization header and nowhere else (not in .git/config, the script's environment,
 * the diff or a log line), and a script cannot redirect the push to another host.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/config/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { newJobId, newJobRows, validateJobRequest } from "../core/jobs/index.ts";
import { runRepo } from "../runner/run-repo.ts";
import { newRunnerDeps } from "../runner/wiring.ts";
import { startFakeGitHttp, type FakeGitHttp } from "./fakes/git-http.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const TOKEN = "ghp_" + "Z".repeat(36);
let stack: TestStack;
let remotes: TestRemotes;
let git: FakeGitHttp;
const lines: string[] = [];

beforeAll(async () => {
  remotes = tempRemotes();
  git = await startFakeGitHttp(remotes.root, TOKEN);
  stack = await startTestStack({ GIT_BASE_URL: git.url });
});
afterAll(async () => {
  await git?.close();
  await stack?.stop();
  remotes?.cleanup();
});

async function runScriptJob(repo: string, script: string) {
  const config = loadConfig({ ...stack.env, GIT_BASE_URL: git.url, GITHUB_TOKEN: TOKEN });
  const log = newLogger({ level: "debug", secrets: [TOKEN] }, { write: (s: string) => void lines.push(s) });
  const deps = { ...newRunnerDeps(config, log), forgeFor: () => ({ gitToken: async () => TOKEN }) };
  const checked = validateJobRequest({ type: "script", script, repositories: [repo], createPullRequests: true, createdBy: "t" }, "any");
  if (checked.kind !== "ok") throw new Error("invalid");
  const jobId = newJobId();
  const { job, repos } = newJobRows(jobId, checked.request, new Date());
  await stack.store.createJob(job, repos);
  expect(await runRepo(deps, { jobId, index: 0 }, new AbortController().signal)).toBe(0);
  return { jobId, row: (await stack.store.listRepos(jobId))[0]! };
}

describe("git with a token over HTTP", () => {
  it("clones and pushes with the token as a Basic header, and leaves it nowhere else", async () => {
    remotes.make("acme/private", { "a.txt": "1\n" });
    const { jobId, row } = await runScriptJob("acme/private", "env > env.txt; cp .git/config config.txt; echo 2 > a.txt");
    expect(row.status, row.error).toBe("COMPLETED");
    const basic = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`;
    expect(git.authorizations).toContain(basic);
    const pushed = execFileSync("git", ["show", `cody/${jobId}:env.txt`], { cwd: join(remotes.root, "acme/private.git"), encoding: "utf8" });
    expect(pushed).toContain("CODY_REPOSITORY=acme/private");
    expect(pushed).not.toContain(TOKEN);
    expect(pushed).not.toMatch(/GIT_CONFIG|extraheader|GITHUB_TOKEN/);
    const config = execFileSync("git", ["show", `cody/${jobId}:config.txt`], { cwd: join(remotes.root, "acme/private.git"), encoding: "utf8" });
    expect(config).toContain(git.url);
    expect(config).not.toContain(TOKEN);
    expect(config).not.toContain(basic.slice(6));
    const diff = await stack.artifacts.get(row.diffKey!);
    expect(diff).not.toContain(basic.slice(6));
    expect(lines.join("")).not.toContain(TOKEN);
    expect(lines.join("")).not.toContain(basic.slice(6));
  });

  it("pushes to the configured remote even when the script rewrites .git/config", async () => {
    remotes.make("acme/sneaky", { "a.txt": "1\n" });
    const script = `git config url."http://127.0.0.1:9/".insteadOf "${git.url}/" && git config http.proxy http://127.0.0.1:9 && echo 2 > a.txt`;
    const { jobId, row } = await runScriptJob("acme/sneaky", script);
    expect(row.status).toBe("COMPLETED");
    const sha = execFileSync("git", ["rev-parse", `refs/heads/cody/${jobId}`], { cwd: join(remotes.root, "acme/sneaky.git"), encoding: "utf8" });
    expect(sha.trim()).toBe(row.commitSha);
  });

  it("fails the repository with a clear reason when the token is refused", async () => {
    remotes.make("acme/other", { "a.txt": "1\n" });
    const config = loadConfig({ ...stack.env, GIT_BASE_URL: git.url });
    const deps = { ...newRunnerDeps(config, stack.log), forgeFor: () => ({ gitToken: async () => "ghp_" + "W".repeat(36) }) };
    const jobId = newJobId();
    const checked = validateJobRequest({ type: "script", script: "true", repositories: ["acme/other"], createdBy: "t" }, "any");
    if (checked.kind !== "ok") throw new Error("invalid");
    const { job, repos } = newJobRows(jobId, checked.request, new Date());
    await stack.store.createJob(job, repos);
    await runRepo(deps, { jobId, index: 0 }, new AbortController().signal);
    const row = (await stack.store.listRepos(jobId))[0]!;
    expect(row.status).toBe("FAILED");
    expect(row.error).toMatch(/no read access to acme\/other|not found/);
    expect(row.error).not.toContain("W".repeat(36));
  });
});
