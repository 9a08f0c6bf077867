/**
 * The local launcher's pool of long-lived runner workers (core/launch/worker-pool.ts, runner/worker.ts)
 * with real worker processes, real bare remotes, dynalite and s3rver: workers are reused across
 * repositories, and a worker killed with SIGKILL mid-repository (CODY_TEST_CRASH_AT) fails only
 * that attempt, which the launcher retries on a fresh worker.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newJobId, validateJobRequest, type RepoRow } from "../core/jobs/index.ts";
import { newLocalLauncher } from "../core/launch/index.ts";
import { newConsoleNotifier } from "../core/jobs/index.ts";
import { submitJob } from "../core/launch/index.ts";
import { workerPoolExecutor } from "../core/launch/index.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const ROOT = resolve(import.meta.dirname, "..");
const WORKER = [process.execPath, "--import", import.meta.resolve("tsx"), join(ROOT, "runner", "main.ts"), "--worker"];

let stack: TestStack;
let remotes: TestRemotes;
let logDir: string;

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, HEARTBEAT_SECONDS: "1", MAX_ATTEMPTS: "3" });
  for (const n of ["acme/a", "acme/b", "acme/c"]) remotes.make(n, { "a.txt": "1\n" });
  logDir = mkdtempSync(join(tmpdir(), "cody-pool-logs-"));
});
afterAll(async () => {
  await stack?.stop();
  remotes?.cleanup();
  rmSync(logDir, { recursive: true, force: true });
});

async function runJob(repositories: string[], opts: { concurrency: number; crashAt?: string }) {
  const checked = validateJobRequest({ type: "script", script: "echo 2 > a.txt", repositories, createdBy: "test" }, "any");
  if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
  const env: NodeJS.ProcessEnv = { ...process.env, ...stack.env, NODE_ENV: "test", HEARTBEAT_SECONDS: "1", MAX_ATTEMPTS: "3", LOG_LEVEL: "info", ...(opts.crashAt ? { CODY_TEST_CRASH_AT: opts.crashAt } : {}) };
  const dir = mkdtempSync(join(logDir, "run-"));
  const pool = workerPoolExecutor({ command: WORKER, env, logDir: dir });
  const codes: number[] = [];
  const launcher = newLocalLauncher({
    executor: async (...a) => {
      const code = await pool(...a);
      codes.push(code);
      return code;
    },
    concurrency: opts.concurrency,
    maxAttempts: 3,
    log: stack.log,
  });
  const jobId = newJobId();
  await submitJob({ store: stack.store, launcher, notifier: newConsoleNotifier(stack.log), log: stack.log }, { jobId, request: checked.request });
  await launcher.whenIdle(jobId);
  pool.close();
  const rows: RepoRow[] = await stack.store.listRepos(jobId);
  return { jobId, rows, codes, workers: readdirSync(join(dir, "workers")), dir };
}

describe("the runner worker pool", () => {
  it("runs every repository through runRepo and reuses one worker for all of them", { timeout: 180_000 }, async () => {
    const r = await runJob(["acme/a", "acme/b", "acme/c"], { concurrency: 1 });
    expect(r.rows.map((x) => [x.repositoryName, x.status])).toEqual([
      ["acme/a", "COMPLETED"],
      ["acme/b", "COMPLETED"],
      ["acme/c", "COMPLETED"],
    ]);
    expect(r.codes).toEqual([0, 0, 0]);
    expect(r.workers).toHaveLength(1);
    // Each repository's log is its own file, as a runner process's output would be.
    expect(readdirSync(join(r.dir, r.jobId)).sort()).toEqual(["0.log", "1.log", "2.log"]);
    expect(readFileSync(join(r.dir, r.jobId, "1.log"), "utf8")).toContain("acme/b");
  });

  it("a worker killed mid-repository fails only that attempt; the retry on a fresh worker completes it", { timeout: 180_000 }, async () => {
    const r = await runJob(["acme/a", "acme/b"], { concurrency: 2, crashAt: "acme/a=change@1" });
    expect(r.rows.map((x) => [x.repositoryName, x.status, x.attempt])).toEqual([
      ["acme/a", "COMPLETED", 2],
      ["acme/b", "COMPLETED", 1],
    ]);
    expect(r.codes.filter((c) => c !== 0)).toEqual([137]);
    // Two workers to begin with, one more to replace the one that died.
    expect(r.workers.length).toBeGreaterThanOrEqual(2);
  });
});
