/**
 * Bounded work: a person's script or verify command is killed with its whole process tree at its
 * timeout, and every cap (clone depth, repository size, file size, changed files) and every
 * unusable repository (missing, empty, missing base branch) ends the repository with its own
 * reason. Real git remotes, dynalite and s3rver; runRepo in this process.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newJobId, newJobRows, validateJobRequest, type JobRequest, type RepoRow } from "../core/jobs/index.ts";
import { newConsoleNotifier } from "../core/jobs/index.ts";
import { runCommand } from "../runner/command.ts";
import { runRepo, type RunRepoDeps } from "../runner/run-repo.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let remotes: TestRemotes;
let workDir: string;

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl });
  workDir = mkdtempSync(join(tmpdir(), "cody-bounded-"));
  remotes.make("acme/plain", { "README.md": "# plain\n", "src/a.txt": "a\n" });
  remotes.make("acme/big", { "README.md": "# big\n", "blob.txt": "x".repeat(64 * 1024) });
  remotes.makeEmpty("acme/empty");
  const deep = remotes.make("acme/deep", { "v.txt": "1\n" });
  addCommits(deep, 3);
});

afterAll(async () => {
  await stack?.stop();
  remotes?.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

/** Adds `n` commits on main to a bare remote. */
function addCommits(bare: string, n: number): void {
  const work = mkdtempSync(join(tmpdir(), "cody-deep-"));
  const git = (args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: work, stdio: "pipe" });
  try {
    git(["clone", "-q", bare, "."]);
    for (let i = 2; i < 2 + n; i++) {
      writeFileSync(join(work, "v.txt"), `${i}\n`);
      git(["commit", "-qam", `v${i}`]);
    }
    git(["push", "-q", "origin", "HEAD:main"]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function deps(settings: Partial<RunRepoDeps["settings"]> = {}): RunRepoDeps {
  return {
    store: stack.store,
    artifacts: stack.artifacts,
    notifier: newConsoleNotifier(stack.log),
    log: stack.log,
    settings: { gitBaseUrl: remotes.gitBaseUrl, scriptTimeoutSeconds: 2, maxAttempts: 3, heartbeatSeconds: 1, workDir, secrets: [], ...settings },
  };
}

/** Creates a one-repository job and runs it in this process; returns its row. */
async function runOne(request: Omit<JobRequest, "createdBy">, settings: Partial<RunRepoDeps["settings"]> = {}): Promise<RepoRow> {
  const checked = validateJobRequest({ ...request, createdBy: "test" }, "any");
  if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
  const jobId = newJobId();
  const { job, repos } = newJobRows(jobId, checked.request, new Date());
  await stack.store.createJob(job, repos);
  expect(await runRepo(deps(settings), { jobId, index: 0 }, new AbortController().signal)).toBe(0);
  const job2 = await stack.store.getJob(jobId);
  expect(job2?.finishedAt).toBeDefined();
  return (await stack.store.listRepos(jobId))[0]!;
}

/** Processes whose command line holds `marker` (ps over every process of the machine). */
function processesWith(marker: string): string[] {
  return execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(marker) && !l.includes("ps -eo"));
}

/** Waits (bounded) until no process holds `marker`; returns the ones left. */
async function leftovers(marker: string): Promise<string[]> {
  for (let i = 0; i < 40; i++) {
    const left = processesWith(marker);
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 50));
  }
  return processesWith(marker);
}

/** A `sleep` whose argument is unique to this test run, so ps can find exactly these processes. */
function marker(): string {
  return `600.${Math.floor(Math.random() * 1e6)}`;
}

describe("commands are killed with their whole process tree", () => {
  it("kills a hung script at its timeout", async () => {
    const m = marker();
    const r = await runCommand(`sleep ${m}`, { cwd: workDir, env: { PATH: process.env.PATH }, timeoutSeconds: 1, graceMs: 200 });
    expect(r.kind).toBe("timed_out");
    expect(await leftovers(m)).toEqual([]);
  });

  it("kills three background children of a script that exits at once", async () => {
    const m = marker();
    const script = `sleep ${m} & sleep ${m} & sleep ${m} & echo started`;
    const running = runCommand(script, { cwd: workDir, env: { PATH: process.env.PATH }, timeoutSeconds: 5, graceMs: 200 });
    const r = await running;
    expect(r).toMatchObject({ kind: "exited", code: 0 });
    expect(r.kind === "exited" && r.output).toContain("started");
    expect(await leftovers(m)).toEqual([]);
  });

  it("kills a hung script's background children at the timeout (they were running until then)", async () => {
    const m = marker();
    const started = runCommand(`sleep ${m} & sleep ${m} & sleep ${m} & wait`, { cwd: workDir, env: { PATH: process.env.PATH }, timeoutSeconds: 1, graceMs: 200 });
    // The children exist while the script runs: proves the check below can see them.
    let seen = 0;
    for (let i = 0; i < 40 && seen < 3; i++) {
      seen = processesWith(m).filter((l) => l.trim().split(/\s+/).slice(1).join(" ") === `sleep ${m}`).length;
      if (seen < 3) await new Promise((r) => setTimeout(r, 25));
    }
    expect(seen).toBe(3);
    expect((await started).kind).toBe("timed_out");
    expect(await leftovers(m)).toEqual([]);
  });

  it("fails a repository whose script hangs, and one whose verify command hangs with children, leaving no process", async () => {
    const m = marker();
    const hung = await runOne({ type: "script", script: `sleep ${m}`, repositories: ["acme/plain"] }, { scriptTimeoutSeconds: 1 });
    expect(hung).toMatchObject({ status: "FAILED", error: "script timed out after 1 s" });
    const verify = await runOne(
      { type: "script", script: "echo b >> src/a.txt", verify: `sleep ${m} & sleep ${m} & sleep ${m} & sleep ${m}`, repositories: ["acme/plain"] },
      { scriptTimeoutSeconds: 1 },
    );
    expect(verify.status).toBe("FAILED");
    expect(verify.error).toMatch(/^verify (command )?timed out after 1 ?s/);
    expect(await leftovers(m)).toEqual([]);
  });
});

describe("caps and unusable repositories end with their own reason", () => {
  it.for([
    { name: "a missing repository", repo: "acme/missing", script: "true", want: /^repository acme\/missing not found at file:\/\/\/\S+\/acme\/missing\.git$/ },
    { name: "an empty repository", repo: "acme/empty", script: "true", want: "acme/empty is empty (no commits on its default branch)" },
    { name: "a missing base branch", repo: "acme/plain", script: "true", base: "release/9", want: "base branch release/9 does not exist in acme/plain" },
    {
      name: "a repository over MAX_REPO_MB",
      repo: "acme/big",
      script: "echo y > README.md",
      settings: { maxRepoBytes: 16 * 1024 },
      want: "the repository is larger than 16.0 KB after cloning (MAX_REPO_MB)",
    },
    {
      name: "a changed file over MAX_FILE_KB",
      repo: "acme/plain",
      script: "head -c 5120 /dev/zero | tr '\\0' z > big.txt",
      settings: { maxFileBytes: 1024 },
      want: "the change makes big.txt 5.0 KB; at most 1.0 KB per file (MAX_FILE_KB)",
    },
    {
      name: "more changed files than MAX_CHANGED_FILES",
      repo: "acme/plain",
      script: "for i in 1 2 3 4 5; do echo $i > f$i.txt; done",
      settings: { maxChangedFiles: 3 },
      want: "the change touches 5 files; at most 3 (MAX_CHANGED_FILES)",
    },
  ])("$name", async (tc) => {
    const row = await runOne({ type: "script", script: tc.script, repositories: [tc.repo], ...(tc.base ? { baseBranch: tc.base } : {}) }, tc.settings ?? {});
    expect(row.status).toBe("FAILED");
    if (tc.want instanceof RegExp) expect(row.error).toMatch(tc.want);
    else expect(row.error).toBe(tc.want);
    expect(row.branch).toBeUndefined();
  });

  it("clones only CLONE_DEPTH commits of history", async () => {
    const depth1 = await runOne({ type: "script", script: "git rev-list --count HEAD > depth.txt", repositories: ["acme/deep"] });
    const depth3 = await runOne({ type: "script", script: "git rev-list --count HEAD > depth.txt", repositories: ["acme/deep"] }, { cloneDepth: 3 });
    expect(await stack.artifacts.get(depth1.diffKey!)).toContain("\n+1\n");
    expect(await stack.artifacts.get(depth3.diffKey!)).toContain("\n+3\n");
  });

  it("leaves no working directory behind", async () => {
    expect(execFileSync("ls", ["-A", workDir], { encoding: "utf8" }).trim()).toBe("");
  });
});
