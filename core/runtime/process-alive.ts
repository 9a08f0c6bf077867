/**
 * Whether a process lives, for lock files and state files that name their owner's pid. Linux and
 * macOS semantics of signal 0: EPERM means it exists under another user.
 */

/** True when a process with `pid` exists (ours or another user's); false once it is gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
