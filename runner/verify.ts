/**
 * The verify step: runs a job's verify command (e.g. `npm test`) in the checkout with the same
 * credential-free environment, timeout and process-group kill as script mode.
 */
import { commandEnv, lastLines, runCommand } from "./command.ts";
import type { Sandbox, SandboxSession } from "./sandbox.ts";

/** How verification ended. `output` is the tail of the command's output; `reason` is set when not ok, for people. */
export type VerifyResult = { ok: boolean; output: string; reason?: string };

/** Bytes of output kept (the tail), for the model and for the repository's error. */
const MAX_OUTPUT_BYTES = 16 * 1024;

/**
 * Runs `command` with `/bin/sh -c` in `root`. `env` is the runner's environment, filtered by
 * `commandEnv` (no credential passes); `home` becomes HOME and TMPDIR. Resolves `ok: true` on
 * exit code 0; otherwise `ok: false` with a reason naming the exit code, the timeout or the
 * last lines of output. Rejects when the shell cannot start or `signal` aborted the command.
 * With `session` (or `sandbox`) the command runs as an unprivileged uid (see runner/sandbox.ts).
 */
export async function runVerify(
  command: string,
  root: string,
  opts: { timeoutSeconds: number; env: NodeJS.ProcessEnv; home: string; extraEnv?: Record<string, string>; sandbox?: Sandbox; gate?: string; session?: SandboxSession },
  signal: AbortSignal,
): Promise<VerifyResult> {
  const res = await runCommand(
    command,
    { cwd: root, env: commandEnv(opts.env, opts.home, opts.extraEnv), timeoutSeconds: opts.timeoutSeconds, maxOutputBytes: MAX_OUTPUT_BYTES, ...(opts.sandbox ? { sandbox: opts.sandbox } : {}), ...(opts.gate ? { gate: opts.gate } : {}), ...(opts.session ? { session: opts.session } : {}) },
    signal,
  );
  const tail = lastLines(res.output, 15);
  switch (res.kind) {
    case "exited":
      if (res.code === 0) return { ok: true, output: res.output };
      return { ok: false, output: res.output, reason: `verify command exited with code ${res.code}${tail ? `:\n${tail}` : ""}` };
    case "timed_out":
      return { ok: false, output: res.output, reason: `verify command timed out after ${res.seconds}s${tail ? `:\n${tail}` : ""}` };
    case "aborted":
      // The repository's run is being stopped (cancel, SIGTERM): not a verdict on the change.
      throw signal.reason instanceof Error ? signal.reason : new Error("verify command cancelled");
  }
}
