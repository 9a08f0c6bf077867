/**
 * The CLI's bad-input error, shared by scripts/cody.ts and the command files it loads (cli-*.ts),
 * in a file of its own so that they need not import cody.ts back.
 */

/** Bad input: printed with usage hints, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
  /**
   * Whether usage helps (a mistyped command: all of it; a command's name: that command's lines)
   * or is noise (false: a setting is missing).
   */
  constructor(message: string, readonly showUsage: boolean | string = true) {
    super(message);
  }
}

/** `v` as a whole number ≥ 1 (≥ 0 with `allowZero`), else a UsageError naming `flag`. */
export function positiveInt(flag: string, v: string, allowZero = false): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new UsageError(`${flag} takes a whole number${allowZero ? "" : " ≥ 1"}, got "${v}"`);
  return n;
}

/** What an unknown job id reads, with where to find the right one. */
export function noJob(jobId: string): string {
  return `no job ${jobId}; see cody list for the recent jobs`;
}
