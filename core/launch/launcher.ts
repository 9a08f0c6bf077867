/**
 * The launcher starts one runner per repository of a job. In AWS it is one AWS Batch array job
 * (see batch-launcher.ts); locally a pool that runs each repository as its own runner, like an
 * array child: same `JOB_ID` and `AWS_BATCH_JOB_ARRAY_INDEX`, same exit-code contract.
 *
 * Runner exit codes: 0 = the repository reached a terminal status (including FAILED, which is
 * the repository's own failure), anything else = the runner itself broke (infrastructure) and
 * the attempt may be retried.
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "../jobs/index.ts";
import type { Logger } from "../runtime/index.ts";

/** The launcher port. */
export type Launcher = {
  /**
   * Starts every repository of the job, or only the repository indexes in `indexes` (a campaign
   * retry, publish or update); returns an id for the submission (AWS Batch job id, or `local-…`).
   */
  submit(job: Job, signal?: AbortSignal, indexes?: readonly number[]): Promise<{ batchJobId: string }>;
  /** Stops what was started for the job: queued repositories never start, running ones get SIGTERM. */
  cancel(job: Job, signal?: AbortSignal): Promise<void>;
};

/** Runs one repository of a job and resolves with the runner's exit code. */
export type Executor = (jobId: string, index: number, attempt: number, signal: AbortSignal) => Promise<number>;

/** A launcher whose runners live in this process's reach, with a way to wait for them. */
export type LocalLauncher = Launcher & {
  /** Resolves when no runner of the job is queued or running. */
  whenIdle(jobId: string): Promise<void>;
};

type Task = { jobId: string; index: number; attempt: number };

/**
 * A local launcher over an executor: a FIFO pool with at most `concurrency` runners at once
 * across jobs. A runner that exits non-zero (crashed) is started again until `maxAttempts`,
 * as AWS Batch's retry strategy would.
 */
export function newLocalLauncher(opts: {
  executor: Executor;
  concurrency: number;
  maxAttempts: number;
  log: Logger;
}): LocalLauncher {
  const queue: Task[] = [];
  const running = new Map<string, { task: Task; abort: AbortController }>();
  const waiters = new Map<string, (() => void)[]>();
  const live = new Map<string, number>(); // jobId → queued + running

  const keyOf = (t: Task) => `${t.jobId}#${t.index}`;
  const settle = (jobId: string) => {
    const n = (live.get(jobId) ?? 1) - 1;
    if (n > 0) return void live.set(jobId, n);
    live.delete(jobId);
    for (const w of waiters.get(jobId) ?? []) w();
    waiters.delete(jobId);
  };

  const pump = () => {
    while (running.size < opts.concurrency && queue.length > 0) {
      const task = queue.shift()!;
      const abort = new AbortController();
      running.set(keyOf(task), { task, abort });
      opts
        .executor(task.jobId, task.index, task.attempt, abort.signal)
        .catch((err: unknown) => {
          opts.log.error({ err, jobId: task.jobId, index: task.index }, "runner could not start");
          return 1;
        })
        .then((code) => {
          running.delete(keyOf(task));
          if (code !== 0 && !abort.signal.aborted && task.attempt < opts.maxAttempts) {
            opts.log.warn({ jobId: task.jobId, index: task.index, code, attempt: task.attempt }, "runner crashed; retrying");
            queue.push({ ...task, attempt: task.attempt + 1 });
          } else {
            settle(task.jobId);
          }
          pump();
        });
    }
  };

  return {
    async submit(job, _signal, indexes) {
      const list = indexes ?? job.repositories.map((_, i) => i);
      live.set(job.jobId, (live.get(job.jobId) ?? 0) + list.length);
      for (const index of list) queue.push({ jobId: job.jobId, index, attempt: 1 });
      pump();
      return { batchJobId: `local-${job.jobId}` };
    },
    async cancel(job) {
      for (let i = queue.length - 1; i >= 0; i--) {
        if (queue[i]!.jobId === job.jobId) {
          queue.splice(i, 1);
          settle(job.jobId);
        }
      }
      for (const { task, abort } of running.values()) if (task.jobId === job.jobId) abort.abort(new Error("job cancelled"));
    },
    whenIdle(jobId) {
      if (!live.has(jobId)) return Promise.resolve();
      return new Promise((resolve) => waiters.set(jobId, [...(waiters.get(jobId) ?? []), resolve]));
    },
  };
}

/**
 * An executor that starts each runner as its own process (`command`), with `env` plus
 * `JOB_ID` and `AWS_BATCH_JOB_ARRAY_INDEX`, output appended to `<logDir>/<jobId>/<index>.log`.
 * Abort sends SIGTERM, then SIGKILL after `graceMs`.
 */
export function processExecutor(opts: { command: readonly string[]; env: NodeJS.ProcessEnv; logDir: string; graceMs?: number }): Executor {
  return (jobId, index, attempt, signal) =>
    new Promise((resolve, reject) => {
      const dir = join(opts.logDir, jobId);
      // The runner's log is the runner's: not readable by the unprivileged users its commands run as.
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const out = createWriteStream(join(dir, `${index}.log`), { flags: "a", mode: 0o600 });
      out.on("open", () => {
        const child = spawn(opts.command[0]!, opts.command.slice(1), {
          env: { ...opts.env, JOB_ID: jobId, AWS_BATCH_JOB_ARRAY_INDEX: String(index), AWS_BATCH_JOB_ATTEMPT: String(attempt) },
          stdio: ["ignore", out, out],
        });
        let killTimer: NodeJS.Timeout | undefined;
        const onAbort = () => {
          child.kill("SIGTERM");
          killTimer = setTimeout(() => child.kill("SIGKILL"), opts.graceMs ?? 10_000);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        child.on("error", (err) => {
          out.end();
          reject(err);
        });
        child.on("exit", (code, sig) => {
          signal.removeEventListener("abort", onAbort);
          if (killTimer) clearTimeout(killTimer);
          out.end();
          resolve(code ?? (sig ? 128 + 9 : 1));
        });
      });
    });
}
