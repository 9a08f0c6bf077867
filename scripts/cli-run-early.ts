/**
 * `cody run` opens its environment (the stack, the launcher and its runner workers) as soon as the
 * command line is read, while the targets resolve and the job is validated: the workers load
 * their bundle and connect meanwhile, so the job is written when they are ready and its first
 * repository starts right after. Bad input abandons it: the workers stop, and a stack daemon this
 * command started stops once idle.
 */
import type { Config } from "../core/config.ts";
import type { JobRequest } from "../core/job.ts";
import type { Logger } from "../core/log.ts";
import type { CliEnvironment } from "./cli-environment.ts";

/** An environment being opened ahead of use: `take()` it to run the job, or `abandon()` it. */
export type EarlyEnvironment = { take(): Promise<CliEnvironment>; abandon(): Promise<void> };

/**
 * Starts opening the environment for `input` now. Workers warmed: the job's repositories when
 * all are plain names, else the concurrency (a selector expands later), at most the concurrency.
 */
export function openEarly(
  env: NodeJS.ProcessEnv,
  config: Config,
  input: { request: JobRequest; concurrency?: number; stopStackWhenIdle?: boolean },
  log: Logger,
): EarlyEnvironment {
  const concurrency = input.concurrency ?? config.localConcurrency;
  const plain = input.request.repositories.every((r) => /^[\w.-]+\/[\w.-]+$/.test(r));
  const warmRunners = Math.max(1, Math.min(concurrency, plain ? input.request.repositories.length : concurrency));
  const world = import("./cli-environment.ts").then(({ openEnvironment }) =>
    openEnvironment(env, { log, ...(input.concurrency ? { concurrency: input.concurrency } : {}), ...(input.stopStackWhenIdle ? { stopStackWhenIdle: true } : {}), warmRunners }),
  );
  // An error here is the caller's once it takes the environment; never an unhandled rejection.
  world.catch(() => undefined);
  let taken = false;
  return {
    take() {
      taken = true;
      return world;
    },
    async abandon() {
      if (taken) return;
      taken = true;
      const w = await world.catch(() => undefined);
      await w?.close({ stopStartedStack: true });
    },
  };
}
