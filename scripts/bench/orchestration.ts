/**
 * Orchestration overhead: N repositories with a one-line script change through the local
 * launcher and its pool of bundled runner workers (the CLI's default, `LOCAL_RUNNER=pool`;
 * BENCH_ORCH_RUNNER=inprocess|process for the others; the same runRepo entry as the runner; the
 * embedded stack in its own process), against a bare shell pipeline doing the same
 * clone + edit + diff with the same parallelism (`xargs -P`).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { newJobId, validateJobRequest } from "../../core/jobs/index.ts";
import { newLogger } from "../../core/runtime/index.ts";
import { newConsoleNotifier } from "../../core/jobs/index.ts";
import { submitJob } from "../../core/launch/index.ts";
import { openEnvironment } from "../../environment/index.ts";
import { BENCH_DIR, ensureRemotes, REMOTES, SCRIPT } from "./fixtures.ts";
import { startStackProcess } from "./processes.ts";
import { median, round } from "./results.ts";

/**
 * Where cody's time went (last round): per repository, the runner's own time (claim → terminal,
 * median) and the launcher's share (wall × concurrency / repositories − that: queueing, handing
 * the task to a worker, the job's creation and finalization).
 */
export type OrchestrationBreakdown = { perRepoRunnerMs: number; perRepoOtherMs: number; perRepoBaselineMs: number; /** Median ms per runner step (the rows' `timings`). */ steps: Record<string, number> };
/** The same job with `SANDBOX_UIDS=off` (scripts as the runner's own user), measured in the same rounds. */
export type SandboxShare = { codyS: number; ratio: number; perRepoRunnerMs: number; steps: Record<string, number>; runs: number[] };
export type OrchestrationResult = { codyS: number; baselineS: number; ratio: number; breakdown: OrchestrationBreakdown; runs: { cody: number[]; baseline: number[] }; unsandboxed?: SandboxShare };

/**
 * Runs both sides `rounds` times, alternating, and compares medians. `sandboxShare`: a third side,
 * the same job with `SANDBOX_UIDS=off`, in the same rounds (the price of the sandbox).
 */
export async function benchOrchestration(opts: { repos: number; concurrency: number; rounds: number; sandboxShare?: boolean }): Promise<OrchestrationResult> {
  const { names, gitBaseUrl } = ensureRemotes(opts.repos);
  // The stack runs in its own process, as DynamoDB and S3 are remote in AWS: this process is the orchestrator only.
  const stack = await startStackProcess();
  const log = newLogger({ level: "silent" });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...stack.env,
    GIT_BASE_URL: gitBaseUrl,
    LOCAL_RUNNER: process.env.BENCH_ORCH_RUNNER ?? "pool",
    LOG_LEVEL: "silent",
    SLACK_BOT_TOKEN: "",
    WORK_DIR: mkdirAnd(join(BENCH_DIR, "work")),
  };
  delete env.SLACK_BOT_TOKEN;
  const world = await openEnvironment(env, { log, concurrency: opts.concurrency, warmRunners: opts.concurrency });
  const open = opts.sandboxShare ? await openEnvironment({ ...env, SANDBOX_UIDS: "off" }, { log, concurrency: opts.concurrency, warmRunners: opts.concurrency }) : undefined;
  const runs = { cody: [] as number[], baseline: [] as number[] };
  const off = { runs: [] as number[], runnerMs: [] as number[], steps: {} as Record<string, number> };
  let runnerMs: number[] = [];
  let steps: Record<string, number> = {};
  try {
    // Warm-up: module loading, SDK clients, connection pools, the page cache of the remotes.
    const few = names.slice(0, Math.min(8, names.length));
    for (const w of [world, open]) if (w) for (let i = 0; i < 2; i++) await codyOnce(w, few, log);
    await baselineOnce(few, opts.concurrency);
    for (let r = 0; r < opts.rounds; r++) {
      runs.baseline.push(await baselineOnce(names, opts.concurrency));
      const c = await codyOnce(world, names, log);
      runs.cody.push(c.s);
      runnerMs = c.runnerMs;
      steps = c.steps;
      if (open) {
        const o = await codyOnce(open, names, log);
        off.runs.push(o.s);
        off.runnerMs = o.runnerMs;
        off.steps = o.steps;
      }
    }
  } finally {
    await world.close();
    await open?.close();
    await stack.stop();
  }
  const codyS = median(runs.cody);
  const baselineS = median(runs.baseline);
  const perRepoRunnerMs = median(runnerMs);
  const breakdown = {
    perRepoRunnerMs: round(perRepoRunnerMs, 0),
    perRepoOtherMs: round((runs.cody.at(-1)! * 1000 * opts.concurrency) / names.length - perRepoRunnerMs, 0),
    perRepoBaselineMs: round((runs.baseline.at(-1)! * 1000 * opts.concurrency) / names.length, 0),
    steps,
  };
  const unsandboxed = open ? { codyS: round(median(off.runs), 3), ratio: round(median(off.runs) / baselineS, 3), perRepoRunnerMs: round(median(off.runnerMs), 0), steps: off.steps, runs: off.runs } : undefined;
  return { codyS: round(codyS, 3), baselineS: round(baselineS, 3), ratio: round(codyS / baselineS, 3), breakdown, runs, ...(unsandboxed ? { unsandboxed } : {}) };
}

function mkdirAnd(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function codyOnce(world: Awaited<ReturnType<typeof openEnvironment>>, names: string[], log: ReturnType<typeof newLogger>): Promise<{ s: number; runnerMs: number[]; steps: Record<string, number> }> {
  const checked = validateJobRequest({ type: "script", name: "Bump version", script: SCRIPT, repositories: names, createdBy: "bench" }, "any");
  if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
  const jobId = newJobId();
  const t0 = performance.now();
  await submitJob({ store: world.store, launcher: world.launcher, notifier: newConsoleNotifier(log), log }, { jobId, request: checked.request });
  await world.launcher.whenIdle!(jobId);
  const s = (performance.now() - t0) / 1000;
  const job = await world.store.getJob(jobId);
  if (job?.status !== "COMPLETED" || job.counters.completed !== names.length) {
    throw new Error(`orchestration: job ${jobId} ended ${job?.status} ${JSON.stringify(job?.counters)}`);
  }
  const rows = await world.store.listRepos(jobId);
  return { s, runnerMs: rows.map((r) => Date.parse(r.finishedAt!) - Date.parse(r.startedAt!)), steps: medianSteps(rows.map((r) => r.timings ?? {})) };
}

/** The median of each step over the rows' timings (a step missing from a row counts 0). */
export function medianSteps(timings: readonly Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(timings.flatMap((t) => Object.keys(t)))];
  return Object.fromEntries(keys.map((k) => [k, round(median(timings.map((t) => t[k] ?? 0)), 0)]));
}

/** The same work as a bare shell pipeline: clone (the runner's flags at depth 1), edit, diff into a file; `xargs -P`. */
async function baselineOnce(names: string[], concurrency: number): Promise<number> {
  const work = mkdtempSync(join(BENCH_DIR, "baseline-"));
  const perRepo = [
    'd="$0/$(echo "$1" | tr / _)"',
    `git clone -q --no-tags --single-branch --depth 1 "file://${REMOTES}/$1.git" "$d/repo"`,
    'cd "$d/repo"',
    SCRIPT,
    'git diff --no-color > "$d/change.diff"',
    'test -s "$d/change.diff"',
  ].join(" && ");
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn("xargs", ["-P", String(concurrency), "-n", "1", "sh", "-c", perRepo, work], { stdio: ["pipe", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`baseline pipeline exited ${code}`))));
    child.stdin.end(names.join("\n") + "\n");
  });
  const s = (performance.now() - t0) / 1000;
  rmSync(work, { recursive: true, force: true });
  return s;
}
