/**
 * Test support: an in-memory embedded stack (dynalite + s3rver over HTTP, through the real AWS
 * SDK) and bare git remotes in a temporary directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../core/config/index.ts";
import { newArtifacts, type Artifacts } from "../../core/jobs/index.ts";
import { newLogger, type Logger } from "../../core/runtime/index.ts";
import { newDynamoClient, newStore, type RequestCounter, type Store } from "../../core/jobs/index.ts";
import { EmbeddedStack } from "../../environment/index.ts";
import { makeBareRepo, makeEmptyBareRepo } from "../../scripts/example-repos.ts";

export type TestStack = {
  env: NodeJS.ProcessEnv;
  config: Config;
  store: Store;
  artifacts: Artifacts;
  counter: RequestCounter;
  log: Logger;
  stop(): Promise<void>;
};

/** Starts an in-memory stack; `extraEnv` is merged into the environment the config is read from. */
export async function startTestStack(extraEnv: NodeJS.ProcessEnv = {}): Promise<TestStack> {
  const stack = await EmbeddedStack.start({ inMemory: true, env: { ...extraEnv } });
  const env: NodeJS.ProcessEnv = { ...extraEnv, ...stack.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  const config = loadConfig(env);
  const counter: RequestCounter = { count: 0 };
  return {
    env,
    config,
    store: newStore(config, newDynamoClient(config, counter)),
    artifacts: newArtifacts(config),
    counter,
    log: newLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    stop: () => stack.stop(),
  };
}

export type TestRemotes = {
  root: string;
  gitBaseUrl: string;
  make(fullName: string, files: Record<string, string>, branch?: string): string;
  makeEmpty(fullName: string): string;
  cleanup(): void;
};

/** A directory of bare remotes served as `file://<root>/owner/name.git`. */
export function tempRemotes(): TestRemotes {
  const root = mkdtempSync(join(tmpdir(), "cody-remotes-"));
  return {
    root,
    gitBaseUrl: `file://${root}`,
    make: (fullName, files, branch) => makeBareRepo(root, fullName, files, branch),
    makeEmpty: (fullName) => makeEmptyBareRepo(root, fullName),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
