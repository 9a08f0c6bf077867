/**
 * The local launcher's default executor: a pool of long-lived runner workers (runner/worker.ts),
 * so a repository does not pay a Node start and module load. Each worker runs one repository at
 * a time; the launcher's own limit (`concurrency`) bounds how many run at once, and idle workers
 * are reused. A worker that exits mid-repository (crash, SIGKILL) fails only that attempt, with
 * its exit code as a runner process's would be, and the launcher retries it on a fresh worker.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import type { Executor } from "./launcher.ts";

/**
 * A pool executor: `warm(n)` starts workers ahead of use (so they load while the caller still
 * works), `ready()` resolves once every started worker is ready or gone (never rejects), `close()`
 * stops the idle ones.
 */
export type PoolExecutor = Executor & { warm(n: number): void; ready(): Promise<void>; close(): void };

type Worker = { child: ChildProcess; ready: Promise<void>; busy: boolean };
type Reply = { type: "ready" } | { type: "done"; code: number };

/**
 * `command` starts one worker (e.g. `node dist/runner.js --worker`) with `env`; each worker's own
 * output goes to `<logDir>/workers/<pid>.log`, each repository's to `<logDir>/<jobId>/<index>.log`.
 * Abort asks the worker to stop the repository, then kills the worker after `graceMs`.
 */
export function workerPoolExecutor(opts: { command: readonly string[]; env: NodeJS.ProcessEnv; logDir: string; graceMs?: number }): PoolExecutor {
  const idle: Worker[] = [];
  const all = new Set<Worker>();

  const startWorker = (): Worker => {
    mkdirSync(join(opts.logDir, "workers"), { recursive: true, mode: 0o700 });
    const fd = openSync(join(opts.logDir, "workers", `${process.pid}-${all.size}-${Date.now()}.log`), "a", 0o600);
    const child = spawn(opts.command[0]!, opts.command.slice(1), { env: opts.env, stdio: ["ignore", fd, fd, "ipc"] });
    closeSync(fd);
    const worker: Worker = { child, busy: false, ready: Promise.resolve() };
    worker.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: Reply) => m.type === "ready" && (child.off("message", onMessage), resolve());
      child.on("message", onMessage);
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`runner worker exited (${code}) before it was ready`)));
    });
    worker.ready.catch(() => undefined);
    child.once("exit", () => {
      all.delete(worker);
      const i = idle.indexOf(worker);
      if (i >= 0) idle.splice(i, 1);
    });
    // Idle workers do not keep this process alive.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    all.add(worker);
    return worker;
  };

  const runOn = (worker: Worker, jobId: string, index: number, attempt: number, signal: AbortSignal) =>
    new Promise<number>((resolve) => {
      const { child } = worker;
      (child.channel as { ref?: () => void } | undefined)?.ref?.();
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (code: number, reusable: boolean) => {
        child.off("message", onMessage);
        child.off("exit", onExit);
        signal.removeEventListener("abort", onAbort);
        if (killTimer) clearTimeout(killTimer);
        worker.busy = false;
        if (reusable && !signal.aborted) {
          (child.channel as { unref?: () => void } | undefined)?.unref?.();
          idle.push(worker);
        } else if (reusable) child.kill("SIGTERM");
        resolve(code);
      };
      const onMessage = (m: Reply) => m.type === "done" && finish(m.code, true);
      // Gone without a reply: never a success, whatever its exit code.
      const onExit = (code: number | null, sig: NodeJS.Signals | null) => finish(sig ? 128 + 9 : code || 1, false);
      const onAbort = () => {
        child.send({ type: "abort" });
        killTimer = setTimeout(() => child.kill("SIGKILL"), opts.graceMs ?? 10_000);
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        child.send({ type: "run", jobId, index, attempt, log: join(opts.logDir, jobId, `${index}.log`) });
      } catch {
        finish(1, false);
      }
    });

  const executor = (async (jobId, index, attempt, signal) => {
    let worker = idle.pop();
    while (worker && !worker.child.connected) worker = idle.pop();
    worker ??= startWorker();
    worker.busy = true;
    await worker.ready;
    return runOn(worker, jobId, index, attempt, signal);
  }) as PoolExecutor;
  executor.warm = (n) => {
    while (all.size < n) idle.push(startWorker());
  };
  executor.ready = async () => {
    // Idle workers are unref'd: something must keep this process alive while it waits for them.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await Promise.all([...all].map((w) => w.ready.catch(() => undefined)));
    } finally {
      clearInterval(keepAlive);
    }
  };
  executor.close = () => {
    for (const w of all) if (!w.busy) w.child.kill("SIGTERM");
  };
  return executor;
}
