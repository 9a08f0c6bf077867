/**
 * The embedded stack as a small daemon, shared by every local program under one CODY_DIR.
 * The first command that needs it starts `cody stack serve` detached (its output in
 * `<dir>/stack.log`); the daemon announces itself in `<dir>/stack.json` once it answers, and every
 * later command connects to what that file names. Starts are serialised by an O_EXCL lock file
 * (`<dir>/stack.lock`, stale when its pid is gone or it is older than a start can take); a daemon
 * whose pid is gone or whose port does not answer is replaced. The daemon outlives the command
 * that started it and stops on `cody stack stop`, SIGTERM, or after CODY_STACK_IDLE_SECONDS
 * (default 1800) without a request.
 */
import { spawn } from "node:child_process";
import { get } from "node:http";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { StackEnv } from "./embedded-stack.ts";
import { StackError, stackErrorMessage } from "./stack-errors.ts";
import { isAlive } from "../core/runtime/index.ts";

/** What `<dir>/stack.json` holds. */
export type StackState = { pid: number; env: StackEnv; startedAt: string; log: string };

const START_TIMEOUT_MS = 60_000;

const paths = (dir: string) => ({
  state: join(dir, "stack.json"),
  lock: join(dir, "stack.lock"),
  log: join(dir, "stack.log"),
});

/** The checkout's root, from this module's place (scripts/ in the sources, dist/chunks/ in the bundle). */
export function repoRoot(): string {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  for (let i = 0; i < 4; i++, dir = resolve(dir, "..")) if (existsSync(join(dir, "scripts", "cody.mjs"))) return dir;
  throw new Error("cannot find scripts/cody.mjs above this module");
}

/** The running daemon's state, or undefined when none is running or it does not answer. */
export async function liveStack(dir: string): Promise<StackState | undefined> {
  const state = readState(dir);
  if (!state) return undefined;
  return isAlive(state.pid) && (await answers(state.env.DYNAMODB_ENDPOINT)) ? state : undefined;
}

/**
 * Connects to the daemon under `dir`, starting one when none answers. `started` tells whether
 * this call started it. Throws StackError (one line) when the stack cannot start.
 */
export async function connectStack(dir0: string, env: NodeJS.ProcessEnv): Promise<StackState & { started: boolean }> {
  const dir = resolve(dir0);
  privateDir(dir);
  const p = paths(dir);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const live = await liveStack(dir);
    if (live) return { ...live, started: false };
    if (tryLock(dir)) {
      try {
        const again = await liveStack(dir);
        if (again) return { ...again, started: false };
        return { ...(await startDaemon(dir, env)), started: true };
      } finally {
        rmSync(p.lock, { force: true });
      }
    }
    if (Date.now() > deadline) throw new StackError(`the embedded stack under ${dir} did not start within ${START_TIMEOUT_MS / 1000} s (see ${p.log})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Takes `<dir>/stack.lock` (O_EXCL), removing it first when its owner is gone. */
function tryLock(dir: string): boolean {
  const { lock } = paths(dir);
  try {
    privateDir(dir);
    const fd = openSync(lock, "wx", 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new StackError(stackErrorMessage(err, dir));
  }
  try {
    const owner = Number(readFileSync(lock, "utf8"));
    const age = Date.now() - statSync(lock).mtimeMs;
    // An empty lock is one being written (give it a moment); a dead owner or an old lock is stale.
    if ((owner > 0 && !isAlive(owner)) || age > START_TIMEOUT_MS || (!owner && age > 2000)) rmSync(lock, { force: true });
  } catch {
    // gone meanwhile
  }
  return false;
}

/** Starts `cody stack serve` detached and waits until it announces itself or fails. Holds the lock. */
async function startDaemon(dir: string, env: NodeJS.ProcessEnv): Promise<StackState> {
  const p = paths(dir);
  const old = readState(dir);
  if (old && isAlive(old.pid) && isStackDaemon(old.pid)) {
    // It runs but does not answer: hung. Replace it (the lock keeps others from doing the same).
    process.kill(old.pid, "SIGKILL");
    await waitFor(() => !isAlive(old.pid), 5000);
  }
  rmSync(p.state, { force: true });
  let logFd: number;
  try {
    logFd = openSync(p.log, "a", 0o600);
    writeSync(logFd, `${new Date().toISOString()} starting the embedded stack (requested by pid ${process.pid})\n`);
  } catch (err) {
    throw new StackError(stackErrorMessage(err, dir));
  }
  const child = spawn(process.execPath, [join(repoRoot(), "scripts", "cody.mjs"), "stack", "serve"], {
    env: { ...env, CODY_DIR: dir },
    detached: true,
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code ?? 1));
  child.unref();
  const ok = await waitFor(() => exited !== undefined || readState(dir)?.pid === child.pid, START_TIMEOUT_MS);
  const state = readState(dir);
  if (ok && exited === undefined && state && state.pid === child.pid) return state;
  if (exited === undefined) child.kill("SIGKILL");
  throw new StackError(failureFromLog(p.log) ?? `the embedded stack did not start (see ${p.log})`);
}

/** The daemon's last `FAILED: …` line in its log. */
function failureFromLog(log: string): string | undefined {
  try {
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    const last = lines.findLast((l) => l.startsWith("FAILED: "));
    return last?.slice("FAILED: ".length);
  } catch {
    return undefined;
  }
}

/** Writes `<dir>/stack.json` atomically (the daemon, once it answers). */
export function announce(dir: string, state: StackState): void {
  const p = paths(dir);
  // 0600: it holds the stack's credentials.
  writeFileSync(`${p.state}.${process.pid}`, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(`${p.state}.${process.pid}`, p.state);
}

/** Removes `<dir>/stack.json` when it still names `pid`. */
export function unannounce(dir: string, pid: number): void {
  if (readState(dir)?.pid === pid) rmSync(paths(dir).state, { force: true });
}

/** Stops the daemon under `dir` (SIGTERM, SIGKILL after 10 s). Resolves with its pid, or undefined when none ran. */
export async function stopStack(dir0: string): Promise<number | undefined> {
  const dir = resolve(dir0);
  const state = readState(dir);
  if (!state || !isAlive(state.pid)) {
    rmSync(paths(dir).state, { force: true });
    return undefined;
  }
  process.kill(state.pid, "SIGTERM");
  if (!(await waitFor(() => !isAlive(state.pid), 10_000))) process.kill(state.pid, "SIGKILL");
  await waitFor(() => !isAlive(state.pid), 5000);
  unannounce(dir, state.pid);
  return state.pid;
}

/**
 * Makes `dir` (CODY_DIR) a directory only its owner can enter (0700, also when an earlier
 * version made it with the umask): it holds the stack's credentials, data and logs, and
 * sandboxed commands run as other uids on the same machine.
 */
export function privateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (st.uid === process.getuid?.() && (st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  } catch (err) {
    throw new StackError(stackErrorMessage(err, dir));
  }
}

/** What `<dir>/stack.json` says (not checked for life). */
export function readState(dir: string): StackState | undefined {
  try {
    const s = JSON.parse(readFileSync(paths(dir).state, "utf8")) as StackState;
    return typeof s.pid === "number" && s.env?.DYNAMODB_ENDPOINT ? s : undefined;
  } catch {
    return undefined; // missing or torn
  }
}

/** Whether `pid` is a `cody stack serve` (so a reused pid is never killed). Linux /proc; elsewhere assume so. */
function isStackDaemon(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").includes("stack serve");
  } catch {
    return !existsSync("/proc/self");
  }
}

/** Whether the endpoint answers HTTP at all (node:http: `fetch` would load undici, ~100 ms). */
function answers(endpoint: string): Promise<boolean> {
  return new Promise((done) => {
    const req = get(endpoint, { timeout: 2000 }, (res) => {
      res.resume();
      done(true);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => done(false));
  });
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}
