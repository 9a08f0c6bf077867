/**
 * What a CLI command works on: the store, artifacts and launcher of the configured environment
 * (the embedded stack unless DYNAMODB_ENDPOINT says otherwise) and the runner's dependencies.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig, type Config } from "../core/config/index.ts";
import { newArtifacts, type Artifacts } from "../core/jobs/index.ts";
import { newLocalLauncher, processExecutor, type Executor, type Launcher, type LocalLauncher } from "../core/launch/index.ts";
import { workerPoolExecutor } from "../core/launch/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import { newDynamoClient, newStore, type RequestCounter, type Store } from "../core/jobs/index.ts";
import type { RunRepoDeps } from "../runner/run-repo.ts";
import { connectStack, privateDir, repoRoot, type StackState } from "./stack-daemon.ts";

/** The runner's command: the bundle (dist/runner.js, kept fresh by scripts/cody.mjs), or the sources through tsx. */
function runnerCommand(env: NodeJS.ProcessEnv): string[] {
  const bundle = join(repoRoot(), "dist", "runner.js");
  if (env.CODY_NO_BUNDLE !== "1" && existsSync(bundle)) return [process.execPath, bundle];
  return [process.execPath, "--import", import.meta.resolve("tsx"), join(repoRoot(), "runner", "main.ts")];
}

export type CliEnvironment = {
  config: Config;
  /** The environment runners get (the caller's plus the stack's endpoints). */
  env: NodeJS.ProcessEnv;
  store: Store;
  artifacts: Artifacts;
  launcher: Launcher & Partial<Pick<LocalLauncher, "whenIdle">>;
  log: Logger;
  dynamoCounter: RequestCounter;
  /** Resolves when the runner workers started ahead of use are ready (pool mode); absent otherwise. */
  runnersReady?: () => Promise<void>;
  /** The embedded stack's daemon this environment uses (`started`: this process started it). */
  stack?: StackState & { started: boolean };
  runnerDeps(): RunRepoDeps;
  /** Stops idle runner workers; `stopStartedStack`: a stack daemon this process started stops once idle. */
  close(opts?: { stopStartedStack?: boolean }): Promise<void>;
};

/**
 * Opens the environment. Locally (no DYNAMODB_ENDPOINT and LAUNCHER not batch) it connects to
 * the embedded stack's daemon under CODY_DIR (default .cody), starting it when none runs; the
 * daemon outlives this process. `stopStackWhenIdle`: when this call started the daemon, `close()`
 * asks it to stop once no program has used it for a few seconds (`make run`). `warmRunners`:
 * start that many runner workers at once (at most the concurrency). `LOCAL_RUNNER=inprocess` runs
 * repositories inside this process through the same runner entry instead of one process each.
 */
export async function openEnvironment(
  env0: NodeJS.ProcessEnv,
  opts: { log: Logger; concurrency?: number; launcher?: boolean; runner?: boolean; stopStackWhenIdle?: boolean; warmRunners?: number },
): Promise<CliEnvironment> {
  let env = env0;
  let stack: CliEnvironment["stack"];
  const first = loadConfig(env);
  // A named AWS environment (--env) never falls back to the embedded stack.
  if (!first.dynamodbEndpoint && first.launcher === "local" && !env.CODY_AWS_ENVIRONMENT) {
    stack = await connectStack(env.CODY_DIR ?? ".cody", env);
    env = { ...env, ...stack.env };
  }
  const config = loadConfig(env);
  const dynamoCounter: RequestCounter = { count: 0 };
  const store = newStore(config, newDynamoClient(config, dynamoCounter));
  const artifacts = newArtifacts(config);
  // The runner's wiring (Octokit, Slack, Claude…) loads only where runners run or `runner` asks.
  const wiring = opts.launcher !== false || opts.runner ? await import("../runner/wiring.ts") : undefined;
  let deps: RunRepoDeps | undefined;
  const runnerDeps = () => {
    if (!wiring) throw new Error("openEnvironment: runnerDeps() needs { runner: true }");
    return (deps ??= wiring.newRunnerDeps(config, opts.log, { dynamoCounter }));
  };
  let launcher: CliEnvironment["launcher"];
  const closers: (() => void)[] = [];
  let runnersReady: (() => Promise<void>) | undefined;
  if (opts.launcher === false) {
    launcher = { submit: () => Promise.reject(new Error("no launcher here")), cancel: async () => undefined };
  } else if (config.launcher === "batch") {
    const { newBatchLauncher } = (await import("../core/launch/batch-launcher.ts")) as { newBatchLauncher: (c: Config) => Launcher };
    launcher = newBatchLauncher(config);
  } else {
    // LOCAL_RUNNER: "pool" (default) long-lived runner workers, "process" one runner process per
    // repository (as AWS Batch does), "inprocess" inside this process.
    const mode = env.LOCAL_RUNNER ?? "pool";
    // The runners' logs live in CODY_DIR: its owner's only, also without the embedded stack.
    privateDir(resolve(env.CODY_DIR ?? ".cody"));
    const runnerOpts = { command: runnerCommand(env), env: { ...env, LOG_LEVEL: env.LOG_LEVEL ?? "info" }, logDir: resolve(env.CODY_DIR ?? ".cody", "logs") };
    let executor: Executor;
    if (mode === "inprocess") executor = async (jobId, index, attempt, signal) => (await import("../runner/run-repo.ts")).runRepo(runnerDeps(), { jobId, index, attempt }, signal);
    else if (mode === "process") executor = processExecutor(runnerOpts);
    else {
      const pool = workerPoolExecutor({ ...runnerOpts, command: [...runnerOpts.command, "--worker"] });
      closers.push(() => pool.close());
      // Runner workers load while this process still connects, validates and submits.
      if (opts.warmRunners) pool.warm(Math.min(opts.warmRunners, opts.concurrency ?? config.localConcurrency));
      runnersReady = () => pool.ready();
      executor = pool;
    }
    launcher = newLocalLauncher({ concurrency: opts.concurrency ?? config.localConcurrency, maxAttempts: config.maxAttempts, log: opts.log, executor });
  }
  return {
    config,
    env,
    store,
    artifacts,
    launcher,
    log: opts.log,
    dynamoCounter,
    ...(stack ? { stack } : {}),
    ...(runnersReady ? { runnersReady } : {}),
    runnerDeps,
    async close(how) {
      for (const c of closers) c();
      if (stack?.started && (opts.stopStackWhenIdle || how?.stopStartedStack)) {
        try {
          process.kill(stack.pid, "SIGUSR2");
        } catch {
          // already gone
        }
      } else if (stack?.started) {
        // Said once: only the command that started the daemon says it stays.
        const minutes = Math.round(Number(env0.CODY_STACK_IDLE_SECONDS ?? 1800) / 60);
        process.stderr.write(`cody: the embedded stack keeps running in the background for the next commands (stops after ${minutes} min unused; now: cody stack stop)\n`);
      }
    },
  };
}
