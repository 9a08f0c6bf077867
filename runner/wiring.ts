/**
 * Builds the runner's dependencies from a config: the one place that knows every adapter.
 * runner/main.ts (one repository per process, as in AWS Batch) and the local in-process
 * executor (many repositories in one process) both use it.
 */
import { secretValues, type Config } from "../core/config.ts";
import { newArtifacts } from "../core/artifacts.ts";
import type { Logger } from "../core/log.ts";
import { newConsoleNotifier, type Notifier } from "../core/notifier.ts";
import { newStore, newDynamoClient, type RequestCounter } from "../core/store.ts";
import type { RunRepoDeps } from "./run-repo.ts";

/** Optional pieces wired in by later layers (Claude, GitHub, Slack), and counters for benchmarks. */
export type RunnerExtras = {
  notifier?: Notifier;
  dynamoCounter?: RequestCounter;
};

/** The runner's dependencies for a config. Throws nothing; adapters connect lazily. */
export function newRunnerDeps(config: Config, log: Logger, extras: RunnerExtras = {}): RunRepoDeps {
  const store = newStore(config, newDynamoClient(config, extras.dynamoCounter));
  return {
    store,
    artifacts: newArtifacts(config),
    notifier: extras.notifier ?? newConsoleNotifier(log),
    log,
    settings: {
      gitBaseUrl: config.gitBaseUrl,
      scriptTimeoutSeconds: config.scriptTimeoutSeconds,
      maxAttempts: config.maxAttempts,
      heartbeatSeconds: config.heartbeatSeconds,
      ...(config.workDir ? { workDir: config.workDir } : {}),
      secrets: secretValues(config),
    },
    ...(config.github.token ? { gitToken: async () => config.github.token } : {}),
  };
}
