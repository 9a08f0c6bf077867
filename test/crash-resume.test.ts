/**
 * A Claude job whose runner is SIGKILLed right after pushing: the retry finds the previous
 * attempt's commit on the remote branch and publishes it (one PR) without asking Claude again.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/config.ts";
import { newJobId, validateJobRequest } from "../core/job.ts";
import { newLocalLauncher, processExecutor, type Executor } from "../core/launcher.ts";
import { newConsoleNotifier } from "../core/notifier.ts";
import { submitJob } from "../core/submit.ts";
import { runRepo } from "../runner/run-repo.ts";
import { newRunnerDeps } from "../runner/wiring.ts";
import { message, startFakeAnthropic, text, toolUse, type FakeAnthropic, type RecordedRequest } from "./fakes/anthropic.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const ROOT = resolve(import.meta.dirname, "..");
const RUNNER = [process.execPath, "--import", import.meta.resolve("tsx"), join(ROOT, "runner", "main.ts")];
const GH_TOKEN = "ghp_" + "r".repeat(36);
const API_KEY = "sk-ant-api03-" + "r".repeat(40);

let stack: TestStack;
let remotes: TestRemotes;
let github: FakeGitHub;
let anthropic: FakeAnthropic;
let workDir: string;

function claude(req: RecordedRequest) {
  const messages = req.body.messages as { content: unknown }[];
  const last = messages[messages.length - 1]!;
  const answered = Array.isArray(last.content) && (last.content as { type: string }[]).some((b) => b.type === "tool_result");
  return answered
    ? message([text("Set VERSION to 2.")], { stop_reason: "end_turn", usage: { input_tokens: 50, output_tokens: 10, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } })
    : message([toolUse("str_replace_based_edit_tool", { command: "create", path: "VERSION", file_text: "2\n" })], {
        stop_reason: "tool_use",
        usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
      });
}

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, HEARTBEAT_SECONDS: "1", MAX_ATTEMPTS: "3" });
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
  anthropic = await startFakeAnthropic(claude);
  workDir = mkdtempSync(join(tmpdir(), "cody-resume-"));
});
afterAll(async () => {
  await anthropic?.close();
  await github?.close();
  await stack?.stop();
  remotes?.cleanup();
  rmSync(workDir, { recursive: true, force: true });
});

describe("a Claude job that crashed after pushing", () => {
  it("publishes the pushed commit on the retry without running Claude again", async () => {
    remotes.make("acme/resume", { VERSION: "1\n" });
    github.addRepo("acme/resume", { defaultBranch: "main" });
    const env = {
      ...process.env,
      ...stack.env,
      NODE_ENV: "test",
      HEARTBEAT_SECONDS: "1",
      MAX_ATTEMPTS: "3",
      WORK_DIR: workDir,
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN: GH_TOKEN,
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_API_KEY: API_KEY,
      LOG_LEVEL: "info",
    };
    const checked = validateJobRequest({ type: "code-pattern-update", prompt: "Set VERSION to 2", repositories: ["acme/resume"], createPullRequests: true, createdBy: "t" }, "any");
    if (checked.kind !== "ok") throw new Error("invalid");
    const spawnRunner = processExecutor({ command: RUNNER, env: { ...env, CODY_TEST_CRASH_AT: "push@1" }, logDir: join(workDir, "logs") });
    const inProcess = newRunnerDeps(loadConfig(env), stack.log, {}, env);
    const codes: number[] = [];
    const executor: Executor = async (jobId, index, attempt, signal) => {
      const code = attempt > 1 ? await runRepo(inProcess, { jobId, index, attempt }, signal) : await spawnRunner(jobId, index, attempt, signal);
      codes.push(code);
      return code;
    };
    const launcher = newLocalLauncher({ executor, concurrency: 1, maxAttempts: 3, log: stack.log });
    const jobId = newJobId();
    await submitJob({ store: stack.store, launcher, notifier: newConsoleNotifier(stack.log), log: stack.log }, { jobId, request: checked.request });
    await launcher.whenIdle(jobId);

    expect(codes).toEqual([137, 0]);
    const row = (await stack.store.listRepos(jobId))[0]!;
    expect(row).toMatchObject({ status: "COMPLETED", attempt: 2, lastStep: "push", summary: "Set VERSION to 2." });
    // Claude ran once: two requests of the first attempt, none on the retry.
    expect(anthropic.messageRequests()).toHaveLength(2);
    expect(row.usage).toEqual({ inputTokens: 150, outputTokens: 30, cacheReadTokens: 0, cacheWriteTokens: 0 });
    const sha = execFileSync("git", ["rev-parse", `refs/heads/cody/${jobId}`], { cwd: join(remotes.root, "acme/resume.git"), encoding: "utf8" }).trim();
    expect(sha).toBe(row.commitSha);
    expect(github.pulls("acme/resume")).toHaveLength(1);
    expect(row.prUrl).toContain("/pull/");
    expect((await stack.store.getJob(jobId))!.totals).toMatchObject({ prsOpened: 1, inputTokens: 150, outputTokens: 30 });
  });
});
