/**
 * `cody run` opens its environment (the stack, the launcher and its runner workers) as soon as the
 * command line is read, while the targets resolve and the job is validated: the workers load
 * their bundle and connect meanwhile, so the job is written when they are ready and its first
 * repository starts right after. Bad input abandons it: the workers stop, and a stack daemon this
 * command started stops once idle. And Ctrl-C while the job runs cancels it (`cancelOnInterrupt`).
 */
import type { Config } from "../core/config/index.ts";
import type { JobRequest } from "../core/jobs/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import type { CliEnvironment } from "../environment/index.ts";

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
  const world = import("../environment/environment.ts").then(({ openEnvironment }) =>
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

/** Ctrl-C cancels the job (a second Ctrl-C leaves it running and exits); returns the way to stop listening. */
export async function cancelOnInterrupt(world: CliEnvironment, jobId: string, log: Logger, onCancel?: () => void): Promise<() => void> {
  const [{ cancelJob }, { newConsoleNotifier }] = await Promise.all([import("../core/launch/submit.ts"), import("../core/jobs/notifier.ts")]);
  const onInt = () => {
    // `onCancel` first: the CLI stops its log lines, so nothing comes between this line and the table.
    onCancel?.();
    process.stderr.write(`\ncody: cancelling job ${jobId} (Ctrl-C again to leave it running)\n`);
    process.once("SIGINT", () => process.exit(130));
    void cancelJob({ store: world.store, launcher: world.launcher, notifier: newConsoleNotifier(log), log }, { jobId, by: "cli" });
  };
  process.once("SIGINT", onInt);
  return () => process.removeListener("SIGINT", onInt);
}
