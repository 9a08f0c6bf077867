/**
 * What a CLI command works on: the store, artifacts and launcher of the configured environment
 * (the embedded stack unless DYNAMODB_ENDPOINT says otherwise) and the runner's dependencies.
 */
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import { loadConfig, type Config } from "../core/config.ts";
import { newArtifacts, type Artifacts } from "../core/artifacts.ts";
import { newLocalLauncher, processExecutor, type Launcher, type LocalLauncher } from "../core/launcher.ts";
import type { Logger } from "../core/log.ts";
import { newDynamoClient, newStore, type RequestCounter, type Store } from "../core/store.ts";
import type { RunRepoDeps } from "../runner/run-repo.ts";
import { connectStack, type StackState } from "./stack-daemon.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export type CliEnvironment = {
  config: Config;
  /** The environment runners get (the caller's plus the stack's endpoints). */
  env: NodeJS.ProcessEnv;
  store: Store;
  artifacts: Artifacts;
  launcher: Launcher & Partial<Pick<LocalLauncher, "whenIdle">>;
  log: Logger;
  dynamoCounter: RequestCounter;
  /** The embedded stack's daemon this environment uses (`started`: this process started it). */
  stack?: StackState & { started: boolean };
  runnerDeps(): RunRepoDeps;
  close(): Promise<void>;
};

/**
 * Opens the environment. Locally (no DYNAMODB_ENDPOINT and LAUNCHER not batch) it connects to
 * the embedded stack's daemon under CODY_DIR (default .cody), starting it when none runs; the
 * daemon outlives this process. `stopStackWhenIdle`: when this call started the daemon, `close()`
 * asks it to stop once no program has used it for a few seconds (`make run`). `LOCAL_RUNNER=inprocess` runs
 * repositories inside this process through the same runner entry instead of one process each.
 */
export async function openEnvironment(
  env0: NodeJS.ProcessEnv,
  opts: { log: Logger; concurrency?: number; launcher?: boolean; runner?: boolean; stopStackWhenIdle?: boolean },
): Promise<CliEnvironment> {
  let env = env0;
  let stack: CliEnvironment["stack"];
  const first = loadConfig(env);
  if (!first.dynamodbEndpoint && first.launcher === "local") {
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
  if (opts.launcher === false) {
    launcher = { submit: () => Promise.reject(new Error("no launcher here")), cancel: async () => undefined };
  } else if (config.launcher === "batch") {
    const { newBatchLauncher } = (await import("../core/batch-launcher.ts")) as { newBatchLauncher: (c: Config) => Launcher };
    launcher = newBatchLauncher(config);
  } else {
    const inProcess = env.LOCAL_RUNNER === "inprocess";
    launcher = newLocalLauncher({
      concurrency: opts.concurrency ?? config.localConcurrency,
      maxAttempts: config.maxAttempts,
      log: opts.log,
      executor: inProcess
        ? async (jobId, index, attempt, signal) => (await import("../runner/run-repo.ts")).runRepo(runnerDeps(), { jobId, index, attempt }, signal)
        : processExecutor({
            command: [process.execPath, "--import", import.meta.resolve("tsx"), join(ROOT, "runner", "main.ts")],
            env: { ...env, LOG_LEVEL: env.LOG_LEVEL ?? "info" },
            logDir: resolve(env.CODY_DIR ?? ".cody", "logs"),
          }),
    });
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
    runnerDeps,
    async close() {
      if (stack?.started && opts.stopStackWhenIdle) {
        try {
          process.kill(stack.pid, "SIGUSR2");
        } catch {
          // already gone
        }
      }
    },
  };
}
