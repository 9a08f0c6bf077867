/**
 * Runs a person's shell command (a job's script or verify command) in the checkout: through
 * `/bin/sh -c`, in its own process group, with an environment that holds no credential, a
 * timeout that kills the whole process tree, and output capped to its tail. With a sandbox
 * (runner/sandbox.ts) it runs as a leased unprivileged uid in its own box (runner/sandbox-box.ts)
 * and nothing of it survives its end, `setsid` children and zombie leaders included.
 */
import { spawn } from "node:child_process";
import type { Sandbox, SandboxSession } from "./sandbox.ts";

/** What a command did. `output` is the tail of stdout and stderr interleaved, at most `maxOutputBytes`. */
export type CommandResult =
  | { kind: "exited"; code: number; output: string }
  | { kind: "timed_out"; seconds: number; output: string }
  | { kind: "aborted"; output: string };

/** Variables passed through from the runner's environment; everything else (credentials included) is dropped. */
const PASSTHROUGH = ["PATH", "LANG", "LC_ALL", "TZ", "TERM", "NODE_VERSION", "npm_config_cache"];

/**
 * The environment of a person's command: an allowlist of harmless variables plus `extra`,
 * and `HOME`/`TMPDIR` pointed at `home` so nothing reads the runner's own configuration.
 */
export function commandEnv(base: NodeJS.ProcessEnv, home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: home, TMPDIR: home, CI: "true", GIT_TERMINAL_PROMPT: "0" };
  for (const k of PASSTHROUGH) if (base[k] !== undefined) env[k] = base[k];
  env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
  return { ...env, ...extra };
}

/**
 * How to run a command. `session` runs it as the session's uid (a repository's: the paths were
 * given to it once); `sandbox` opens a session for this one command, with the uid owning `cwd`
 * and `env.HOME` while it runs and `gate` the runner's directory above them that only that uid
 * may pass meanwhile.
 */
export type CommandOptions = {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutSeconds: number;
  maxOutputBytes?: number;
  graceMs?: number;
  sandbox?: Sandbox;
  gate?: string;
  session?: SandboxSession;
};

/**
 * Runs `command` with `/bin/sh -c` in `cwd`. Resolves with how it ended; never rejects for the
 * command's own failure. On timeout or abort the whole process group gets SIGTERM, then SIGKILL
 * after `graceMs`, so background children die too. With `sandbox`, the command runs as a uid of
 * its own, and when the shell exits (or after the grace) every process of that uid is killed.
 */
export async function runCommand(command: string, opts: CommandOptions, signal?: AbortSignal): Promise<CommandResult> {
  const { sandbox, session } = opts;
  if (!sandbox && !session) return spawnCommand(command, opts, signal);
  const home = opts.env.HOME;
  // The runner's npm cache is not the sandbox user's to write: npm gets one in the command's HOME.
  const env = home && opts.env.npm_config_cache ? { ...opts.env, npm_config_cache: `${home}/.npm` } : opts.env;
  if (session) {
    try {
      return await spawnCommand(command, { ...opts, env }, signal, session);
    } finally {
      await session.afterCommand();
    }
  }
  const paths = [opts.cwd, ...(home && home !== opts.cwd ? [home] : [])];
  const where = { paths, ...(opts.gate ? { gate: opts.gate } : {}) };
  return sandbox!.withUser(where, (s) => spawnCommand(command, { ...opts, env }, signal, s), signal);
}

function spawnCommand(command: string, opts: CommandOptions, signal: AbortSignal | undefined, session?: SandboxSession): Promise<CommandResult> {
  const max = opts.maxOutputBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return resolve({ kind: "aborted", output: "" });
    let output = "";
    const append = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.length > max * 2) output = output.slice(-max);
    };
    const boxed = session ? session.command(command, opts.cwd) : { file: "/bin/sh", args: ["-c", command] };
    const child = spawn(boxed.file, boxed.args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      ...("switchTo" in boxed && boxed.switchTo ? { uid: boxed.switchTo.uid, gid: boxed.switchTo.gid } : {}),
    });
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    let ended: "timed_out" | "aborted" | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // the group is gone already
      }
      // A uid of its own without a PID namespace: also what left the group (setsid, double fork).
      if (sig === "SIGKILL" && session) session.afterCommand().catch(() => undefined);
    };
    const stop = (why: "timed_out" | "aborted") => {
      if (ended) return;
      ended = why;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), opts.graceMs ?? 2000);
    };
    const timer = setTimeout(() => stop("timed_out"), opts.timeoutSeconds * 1000);
    const onAbort = () => stop("aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`start ${JSON.stringify(command.slice(0, 40))}`, { cause: err }));
    });
    // "close" waits for stdout/stderr to end, which background children holding the pipes delay:
    // after the shell exits, the group is killed so no child outlives the command.
    child.on("exit", () => {
      killGroup("SIGKILL");
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      signal?.removeEventListener("abort", onAbort);
      const tail = output.length > max ? output.slice(-max) : output;
      if (ended === "timed_out") resolve({ kind: "timed_out", seconds: opts.timeoutSeconds, output: tail });
      else if (ended === "aborted") resolve({ kind: "aborted", output: tail });
      else resolve({ kind: "exited", code: code ?? (sig ? 128 : 1), output: tail });
    });
  });
}

/** The last `n` non-empty lines of `text`, for reasons people read. */
export function lastLines(text: string, n: number): string {
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .join("\n");
}
