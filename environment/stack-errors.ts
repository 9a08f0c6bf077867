/**
 * Failures of the embedded stack as one line each: what broke and what to do. The CLI prints the
 * line and exits 1 (never a stack trace).
 */

/** A failure of the embedded stack; `message` is the one line the CLI prints. */
export class StackError extends Error {
  override name = "StackError";
}

type ErrLike = { code?: string; message?: string; cause?: unknown; port?: number; address?: string; path?: string };

/** One line for an error of starting or reaching the stack under `dir`. */
export function stackErrorMessage(err: unknown, dir: string): string {
  const chain: ErrLike[] = [];
  for (let e = err as ErrLike | undefined; e && chain.length < 5; e = e.cause as ErrLike | undefined) chain.push(e);
  const has = (code: string) => chain.find((e) => e.code === code);
  const inUse = has("EADDRINUSE");
  if (inUse) {
    return `port ${inUse.port ?? "?"} is in use by another program: set CODY_STACK_DYNAMODB_PORT / CODY_STACK_S3_PORT to a free port (0 picks one)`;
  }
  const corrupt = has("LEVEL_CORRUPTION");
  if (corrupt) {
    return `the local DynamoDB data in ${join2(dir, "dynamodb")} is corrupt (${firstLine(corrupt.message)}): move it aside, or delete ${dir} (make clean) to start afresh`;
  }
  if (has("LEVEL_LOCKED")) return `the local DynamoDB data in ${join2(dir, "dynamodb")} is in use by another process (an embedded stack not started by cody?)`;
  const full = has("ENOSPC") ?? chain.find((e) => /no space left on device/i.test(e.message ?? ""));
  if (full) return `disk full writing ${full.path ?? dir}: free some space and try again`;
  const denied = has("EACCES") ?? has("EROFS") ?? has("EPERM");
  if (denied) return `cannot write ${denied.path ?? dir} (${denied.code}): check the permissions of CODY_DIR`;
  const refused = has("ECONNREFUSED");
  if (refused) return `the embedded stack under ${dir} stopped answering (${firstLine(refused.message)}): run the command again to start a new one`;
  return `the embedded stack under ${dir} failed: ${chain.map((e) => firstLine(e.message)).filter(Boolean).join(": ")}`;
}

const firstLine = (s: string | undefined) => (s ?? "").split("\n")[0]!.trim();
const join2 = (a: string, b: string) => `${a.replace(/\/+$/, "")}/${b}`;
