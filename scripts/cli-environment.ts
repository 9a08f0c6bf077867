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
import { runRepo, type RunRepoDeps } from "../runner/run-repo.ts";
import { newRunnerDeps } from "../runner/wiring.ts";
import { EmbeddedStack } from "./embedded-stack.ts";

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
  runnerDeps(): RunRepoDeps;
  close(): Promise<void>;
};

/**
 * Opens the environment. Locally (no DYNAMODB_ENDPOINT and LAUNCHER not batch) it starts or
 * reuses the embedded stack under CODY_DIR (default .cody). `LOCAL_RUNNER=inprocess` runs
 * repositories inside this process through the same runner entry instead of one process each.
 */
export async function openEnvironment(
  env0: NodeJS.ProcessEnv,
  opts: { log: Logger; concurrency?: number; launcher?: boolean },
): Promise<CliEnvironment> {
  let env = env0;
  let stack: EmbeddedStack | undefined;
  const first = loadConfig(env);
  // A named AWS environment (--env) never falls back to the embedded stack.
  if (!first.dynamodbEndpoint && first.launcher === "local" && !env.CODY_AWS_ENVIRONMENT) {
    stack = await EmbeddedStack.shared({ dir: env.CODY_DIR ?? ".cody", env });
    env = { ...env, ...stack.env };
  }
  const config = loadConfig(env);
  const dynamoCounter: RequestCounter = { count: 0 };
  const store = newStore(config, newDynamoClient(config, dynamoCounter));
  const artifacts = newArtifacts(config);
  let deps: RunRepoDeps | undefined;
  const runnerDeps = () => (deps ??= newRunnerDeps(config, opts.log, { dynamoCounter }));
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
        ? (jobId, index, attempt, signal) => runRepo(runnerDeps(), { jobId, index, attempt }, signal)
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
    runnerDeps,
    async close() {
      await stack?.stop();
    },
  };
}
