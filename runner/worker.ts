/**
 * A long-lived local runner worker (`node dist/runner.js --worker`, started by the local
 * launcher's pool in core/launch/worker-pool.ts): loads the config and the runner's dependencies once,
 * then runs one repository at a time through the same `runRepo` entry as an AWS Batch child, on
 * messages over its IPC channel:
 *   → { type: "run", jobId, index, attempt, log }   ← { type: "done", code }
 *   → { type: "abort" }                              (the running repository stops at its next step)
 * Each repository's log lines go to its own file (`log`), as one runner process's output would.
 * The worker exits when its parent goes (IPC disconnect) or on SIGTERM. A crash (SIGKILL, OOM)
 * fails only the attempt it was running; the pool starts a fresh worker and the launcher retries.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { loadConfig, secretValues } from "../core/config/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { resolveSecrets } from "../core/secrets/index.ts";
import { crashPointsFrom } from "./crash-points.ts";
import { runRepo } from "./run-repo.ts";
import { newRunnerDeps } from "./wiring.ts";

/** What the pool sends a worker. */
export type WorkerRequest = { type: "run"; jobId: string; index: number; attempt: number; log: string } | { type: "abort" };
/** What a worker sends back. */
export type WorkerReply = { type: "ready" } | { type: "done"; code: number };

/** Serves tasks until the parent disconnects; resolves with the exit code. */
export async function serveWorker(): Promise<number> {
  const send = (m: WorkerReply) => process.send?.(m);
  if (!process.send) {
    process.stderr.write("cody runner --worker: needs an IPC channel (started by the local launcher)\n");
    return 2;
  }
  const config = loadConfig(await resolveSecrets(process.env));
  const secrets = secretValues(config);
  const log = newLogger({ level: config.logLevel, secrets, base: { program: "runner-worker" } });
  const deps = newRunnerDeps(config, log);
  const crashPoint = crashPointsFrom(process.env);
  // Ready means ready for the first repository's first request: the DynamoDB client builds its
  // middleware, resolves its endpoint and opens its connection now (one read of a job that does
  // not exist), not while a repository waits.
  await deps.store.getJob("j-warmup0000", AbortSignal.timeout(5000)).catch(() => undefined);
  let current: AbortController | undefined;
  const run = async (m: Extract<WorkerRequest, { type: "run" }>) => {
    // The runner's log is the runner's: not readable by the unprivileged users its commands run as.
    mkdirSync(dirname(m.log), { recursive: true, mode: 0o700 });
    const fd = openSync(m.log, "a", 0o600);
    const taskLog = newLogger({ level: config.logLevel, secrets, base: { program: "runner" } }, { write: (s: string) => void writeSync(fd, s) });
    current = new AbortController();
    let code: number;
    try {
      code = await runRepo({ ...deps, log: taskLog, ...(crashPoint ? { crashPoint } : {}) }, { jobId: m.jobId, index: m.index, attempt: m.attempt }, current.signal);
    } catch (err) {
      taskLog.error({ err }, "runner failed");
      code = 1;
    } finally {
      current = undefined;
      closeSync(fd);
    }
    send({ type: "done", code });
  };
  process.on("message", (m: WorkerRequest) => {
    if (m.type === "run") void run(m);
    else if (m.type === "abort") current?.abort(new Error("job cancelled"));
  });
  const code = await new Promise<number>((done) => {
    process.once("disconnect", () => done(0));
    process.once("SIGTERM", () => {
      current?.abort(new Error("received SIGTERM"));
      done(0);
    });
    send({ type: "ready" });
  });
  return code;
}
