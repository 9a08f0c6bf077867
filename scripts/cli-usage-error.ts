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

/** What an unknown job id reads, with where to find the right one. */
export function noJob(jobId: string): string {
  return `no job ${jobId}; see cody list for the recent jobs`;
}
