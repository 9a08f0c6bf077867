/**
 * Child processes of the benchmarks: TypeScript programs started with tsx, whose first stdout
 * line (or last, for results) is JSON. Every child is stopped by its own pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TSX = import.meta.resolve("tsx");

/** A running child and the first JSON line it printed. */
export type Started<T> = { child: ChildProcess; first: T; stop(): Promise<void> };

/** Starts `node --import tsx <script>` and waits (≤ timeoutMs) for its first stdout line, parsed as JSON. */
export function startTs<T>(script: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Started<T>> {
  const child = spawn(process.execPath, ["--import", TSX, join(ROOT, script)], { env, stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited ${code} before it started`));
    });
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolveStart({ child, first: JSON.parse(line) as T, stop: () => stopChild(child) });
    });
  });
}

/** Runs `node --import tsx <script>` to its end (≤ timeoutMs) and parses its last stdout line as JSON. */
export function runTs<T>(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<T> {
  const child = spawn(process.execPath, ["--import", TSX, join(ROOT, script)], { env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code, sig) => {
      clearTimeout(timer);
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) return reject(new Error(`${script} exited ${code ?? sig}`));
      try {
        resolveRun(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result: ${last.slice(0, 200)}`));
      }
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the child has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolveStop();
    });
    child.stdin?.end();
    child.kill("SIGTERM");
  });
}

/** Starts the embedded stack in its own process; returns its environment and a stop. */
export async function startStackProcess(): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  const s = await startTs<Record<string, string>>("scripts/bench/stack-server.ts", { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
  return { env: s.first, stop: s.stop };
}
