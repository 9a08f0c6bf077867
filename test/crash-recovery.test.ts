/**
 * Crash recovery with real runner processes (runner/main.ts through the local launcher, as AWS
 * Batch array children), real bare remotes, dynalite, s3rver and the GitHub fake: a runner
 * killed with SIGKILL at any step (CODY_TEST_CRASH_AT, honoured only with NODE_ENV=test) is
 * recovered by the next attempt from a clean checkout, with one commit, one branch and one PR;
 * a repository whose runner keeps dying is failed by the watchdog with the step it died at.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/config/index.ts";
import { newJobId, validateJobRequest, type Job, type JobRequest, type RepoRow } from "../core/jobs/index.ts";
import { newLocalLauncher, processExecutor, type Executor } from "../core/launch/index.ts";
import { newConsoleNotifier } from "../core/jobs/index.ts";
import { submitJob } from "../core/launch/index.ts";
import { CRASH_STEPS, parseCrashPoints } from "../runner/crash-points.ts";
import { runRepo } from "../runner/run-repo.ts";
import { newRunnerDeps } from "../runner/wiring.ts";
import { message, startFakeAnthropic, text, toolUse, type RecordedRequest } from "./fakes/anthropic.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const ROOT = resolve(import.meta.dirname, "..");
const RUNNER = [process.execPath, "--import", import.meta.resolve("tsx"), join(ROOT, "runner", "main.ts")];
const GH_TOKEN = "ghp_" + "c".repeat(36);

let stack: TestStack;
let remotes: TestRemotes;
let github: FakeGitHub;
let logDir: string;
let workDir: string;

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, HEARTBEAT_SECONDS: "1", MAX_ATTEMPTS: "3" });
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
  logDir = mkdtempSync(join(tmpdir(), "cody-crash-logs-"));
  workDir = mkdtempSync(join(tmpdir(), "cody-crash-work-"));
});

afterAll(async () => {
  await github?.close();
  await stack?.stop();
  remotes?.cleanup();
  rmSync(logDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

/** The environment runner processes and CLI commands get. */
function runnerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...stack.env,
    NODE_ENV: "test",
    HEARTBEAT_SECONDS: "1",
    MAX_ATTEMPTS: "3",
    WORK_DIR: workDir,
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: GH_TOKEN,
    LOG_LEVEL: "info",
    ...extra,
  };
}

function makeRepo(name: string): void {
  remotes.make(name, { "VERSION": "1\n", "README.md": `# ${name}\n` });
  github.addRepo(name, { defaultBranch: "main" });
}

/**
 * Submits a job to a local launcher over runner processes and waits until its runners are gone.
 * With `retryInProcess`, attempts after the first run the same runner entry (runRepo, wired as
 * runner/main.ts wires it) in this process: the crash is still a real SIGKILL of a real process,
 * and the test spends less time starting Node.
 */
async function runJob(
  request: Omit<JobRequest, "createdBy">,
  opts: { crashAt: string; maxAttempts: number; concurrency?: number; retryInProcess?: boolean; env?: NodeJS.ProcessEnv },
): Promise<{ job: Job; rows: RepoRow[]; codes: number[] }> {
  const checked = validateJobRequest({ ...request, createdBy: "test" }, "any");
  if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
  const spawnRunner = processExecutor({ command: RUNNER, env: runnerEnv({ ...opts.env, CODY_TEST_CRASH_AT: opts.crashAt }), logDir });
  const inProcess = newRunnerDeps(loadConfig(runnerEnv(opts.env)), stack.log, {}, runnerEnv(opts.env));
  const codes: number[] = [];
  const executor: Executor = async (jobId, index, attempt, signal) => {
    const code =
      opts.retryInProcess && attempt > 1
        ? await runRepo(inProcess, { jobId, index, attempt }, signal)
        : await spawnRunner(jobId, index, attempt, signal);
    codes.push(code);
    return code;
  };
  const launcher = newLocalLauncher({ executor, concurrency: opts.concurrency ?? 4, maxAttempts: opts.maxAttempts, log: stack.log });
  const jobId = newJobId();
  await submitJob({ store: stack.store, launcher, notifier: newConsoleNotifier(stack.log), log: stack.log }, { jobId, request: checked.request });
  await launcher.whenIdle(jobId);
  return { job: (await stack.store.getJob(jobId))!, rows: await stack.store.listRepos(jobId), codes };
}

function git(repo: string, args: string[]): string {
  return execFileSync("git", args, { cwd: join(remotes.root, `${repo}.git`), encoding: "utf8" }).trim();
}

function countsOf(rows: RepoRow[]) {
  const by = (s: string) => rows.filter((r) => r.status === s).length;
  return { total: rows.length, completed: by("COMPLETED"), noChanges: by("NO_CHANGES"), failed: by("FAILED"), cancelled: by("CANCELLED") };
}

/** Waits (bounded) until every row's heartbeat is older than `ms`. */
async function waitStale(jobIds: string[], ms: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const rows = (await Promise.all(jobIds.map((j) => stack.store.listRepos(j)))).flat();
    if (rows.every((r) => !r.heartbeatAt || Date.now() - Date.parse(r.heartbeatAt) > ms)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("heartbeats did not go stale");
}

it("reads crash points and refuses what it cannot read", () => {
  expect(parseCrashPoints("acme/a=push@1, verify")).toEqual([{ repository: "acme/a", step: "push", maxAttempt: 1 }, { step: "verify" }]);
  expect(() => parseCrashPoints("acme/a=pusj")).toThrow(/pusj/);
});

describe("a runner killed with SIGKILL at each step", () => {
  it("is recovered by the launcher's retry: every repository COMPLETED, one commit, one branch, one PR, no leftovers", async () => {
    const names = CRASH_STEPS.map((s) => `acme/crash-${s.replace("_", "-")}`);
    names.forEach(makeRepo);
    const crashAt = names.map((n, i) => `${n}=${CRASH_STEPS[i]}@1`).join(",");
    const { job, rows, codes } = await runJob(
      { type: "script", name: "Bump VERSION", script: "echo 2 > VERSION", verify: "grep -q 2 VERSION", repositories: names, createPullRequests: true },
      { crashAt, maxAttempts: 3, retryInProcess: true },
    );

    // Each repository's first runner died by SIGKILL (128 + 9), and its retry ended it.
    expect(codes.filter((c) => c === 137)).toHaveLength(7);
    expect(codes.filter((c) => c === 0)).toHaveLength(7);
    expect(rows.map((r) => [r.repositoryName, r.status])).toEqual(names.map((n) => [n, "COMPLETED"]));
    expect(job.status).toBe("COMPLETED");
    expect(job.finishedAt).toBeDefined();
    expect(job.counters).toEqual(countsOf(rows));

    for (const [i, row] of rows.entries()) {
      const step = CRASH_STEPS[i]!;
      if (step === "report") {
        // Killed after the terminal write: the retry found the row finished and only did the bookkeeping.
        expect(row.attempt).toBe(1);
      } else {
        expect({ repo: row.repositoryName, attempt: row.attempt, lastStep: row.lastStep }).toEqual({ repo: row.repositoryName, attempt: 2, lastStep: step });
      }
      const branch = `cody/${job.jobId}`;
      expect(git(row.repositoryName, ["rev-list", "--count", `main..${branch}`])).toBe("1");
      expect(git(row.repositoryName, ["rev-parse", branch])).toBe(row.commitSha);
      expect(git(row.repositoryName, ["for-each-ref", "--format=%(refname)", "refs/heads/cody/"])).toBe(`refs/heads/${branch}`);
      const pulls = github.pulls(row.repositoryName);
      expect(pulls).toHaveLength(1);
      expect(row.prUrl).toBeDefined();
    }
    // Every attempt's working directory is gone, the crashed ones' included.
    expect(readdirSync(workDir).filter((d) => d.includes(job.jobId))).toEqual([]);
  });
});

describe("a Claude job killed right after pushing", () => {
  it("is published from the pushed commit on the retry, without asking Claude again", async () => {
    const claude = (req: RecordedRequest) => {
      const messages = req.body.messages as { content: unknown }[];
      const last = messages[messages.length - 1]!;
      const answered = Array.isArray(last.content) && (last.content as { type: string }[]).some((b) => b.type === "tool_result");
      const usage = (input: number, output: number) => ({ input_tokens: input, output_tokens: output, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
      return answered
        ? message([text("Set VERSION to 2.")], { stop_reason: "end_turn", usage: usage(50, 10) })
        : message([toolUse("str_replace_based_edit_tool", { command: "create", path: "VERSION", file_text: "2\n" })], { stop_reason: "tool_use", usage: usage(100, 20) });
    };
    const anthropic = await startFakeAnthropic(claude);
    try {
      makeRepo("acme/resume");
      const { job, rows, codes } = await runJob(
        { type: "code-pattern-update", prompt: "Set VERSION to 2", repositories: ["acme/resume"], createPullRequests: true },
        { crashAt: "push@1", maxAttempts: 3, retryInProcess: true, env: { ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: "sk-ant-api03-" + "r".repeat(40) } },
      );
      expect(codes).toEqual([137, 0]);
      const row = rows[0]!;
      expect(row).toMatchObject({ status: "COMPLETED", attempt: 2, lastStep: "push", summary: "Set VERSION to 2." });
      // Claude ran once: the first attempt's two requests, none on the retry.
      expect(anthropic.messageRequests()).toHaveLength(2);
      expect(row.usage).toEqual({ inputTokens: 150, outputTokens: 30, cacheReadTokens: 0, cacheWriteTokens: 0 });
      expect(git("acme/resume", ["rev-parse", `refs/heads/cody/${job.jobId}`])).toBe(row.commitSha);
      expect(github.pulls("acme/resume")).toHaveLength(1);
      expect(job.totals).toMatchObject({ prsOpened: 1, inputTokens: 150, outputTokens: 30 });
    } finally {
      await anthropic.close();
    }
  });
});

describe("a runner that keeps dying", () => {
  it("is failed by `cody watchdog` after the last attempt with the step it died at; an earlier attempt is left for `cody runner` to recover", async () => {
    makeRepo("acme/dead-verify");
    makeRepo("acme/late-push");
    const request = { type: "script" as const, name: "Bump", script: "echo 2 > VERSION", verify: "grep -q 2 VERSION", createPullRequests: true };
    const [dead, late] = await Promise.all([
      runJob({ ...request, repositories: ["acme/dead-verify"] }, { crashAt: "verify", maxAttempts: 3 }),
      runJob({ ...request, repositories: ["acme/late-push"] }, { crashAt: "push@1", maxAttempts: 1 }),
    ]);
    expect(dead.codes).toEqual([137, 137, 137]);
    expect(dead.rows[0]).toMatchObject({ status: "RUNNING", attempt: 3, step: "verify", lastStep: "verify" });
    expect(late.rows[0]).toMatchObject({ status: "PUSHING", attempt: 1, step: "push" });

    await waitStale([dead.job.jobId, late.job.jobId], 3500);
    const env = runnerEnv({ LOG_LEVEL: "silent" });
    const swept = await runCli(["watchdog", "--json"], env);
    expect(swept.stderr).toBe("");
    expect(swept.code).toBe(0);
    expect(JSON.parse(swept.stdout)).toEqual({ jobs: 2, failed: 1 });

    const deadJob = (await stack.store.getJob(dead.job.jobId))!;
    const deadRows = await stack.store.listRepos(dead.job.jobId);
    expect(deadRows[0]).toMatchObject({ status: "FAILED", error: "runner crashed 3 times at step verify" });
    expect(deadJob).toMatchObject({ status: "FAILED", finishedAt: expect.any(String), counters: countsOf(deadRows) });
    expect(git("acme/dead-verify", ["for-each-ref", "refs/heads/cody/"])).toBe("");

    // Attempt 1 of 3 died: a retry may still come, so the watchdog leaves it; `cody runner` takes it over.
    expect((await stack.store.listRepos(late.job.jobId))[0]).toMatchObject({ status: "PUSHING", attempt: 1 });
    const rerun = await runCli(["runner", "--job", late.job.jobId, "--index", "0"], env);
    expect(rerun.code).toBe(0);
    const lateRows = await stack.store.listRepos(late.job.jobId);
    expect(lateRows[0]).toMatchObject({ status: "COMPLETED", attempt: 2, lastStep: "push" });
    expect(await stack.store.getJob(late.job.jobId)).toMatchObject({ status: "COMPLETED", counters: countsOf(lateRows) });
    expect(git("acme/late-push", ["rev-list", "--count", `main..cody/${late.job.jobId}`])).toBe("1");
    expect(github.pulls("acme/late-push")).toHaveLength(1);
  });
});
