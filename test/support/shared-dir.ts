/**
 * A directory a sandboxed script can see (runner/sandbox-box.ts): not under /tmp (a script gets
 * its own empty tmpfs there), not under CODY_DIR (0700), readable by the sandbox uids. It lives
 * under /run (visible, read-only, inside the box wherever the repository is cloned, /tmp included),
 * else under the repository's working tree in `.test-tmp/` (gitignored); `cleanup` removes it.
 *
 * A sandboxed script sees every mount read-only but its own checkout, so it can READ flag files
 * here but cannot write a regular file. For a script that must report back, `log` makes a FIFO:
 * opening a FIFO for writing is allowed on a read-only mount (it is not a regular file), and the
 * test holds it open read-write so writers never block; `read()` drains what arrived so far.
 */
import { execFileSync } from "node:child_process";
import { accessSync, chmodSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A log that sandboxed scripts append lines to (`echo x >> path`), read by the test. */
export type SharedLog = { path: string; read: () => string };

/** A directory visible to sandboxed scripts, with FIFO logs inside; `cleanup` removes it. */
export type SharedDir = { path: string; log: (name: string) => SharedLog; cleanup: () => void };

const ROOT = isWritableDir("/run") ? "/run/cody-test-shared" : join(resolve(dirname(fileURLToPath(import.meta.url)), "..", ".."), ".test-tmp");

function isWritableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Makes a fresh shared directory (0755) under /run/cody-test-shared/ (or `<repo>/.test-tmp/`). */
export function sharedDir(prefix: string): SharedDir {
  mkdirSync(ROOT, { recursive: true, mode: 0o755 });
  chmodSync(ROOT, 0o755);
  const path = mkdtempSync(join(ROOT, prefix));
  chmodSync(path, 0o755);
  const fds: number[] = [];
  const log = (name: string): SharedLog => {
    const file = join(path, name);
    execFileSync("mkfifo", ["-m", "0666", file]);
    chmodSync(file, 0o666);
    // Read-write: never blocks on open, never sees EOF when a writer closes; lines under PIPE_BUF are atomic.
    const fd = openSync(file, constants.O_RDWR | constants.O_NONBLOCK);
    fds.push(fd);
    let text = "";
    const read = () => {
      const buf = Buffer.alloc(65536);
      for (;;) {
        let n = 0;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "EAGAIN") break;
          throw e;
        }
        if (n <= 0) break;
        text += buf.subarray(0, n).toString("utf8");
      }
      return text;
    };
    return { path: file, read };
  };
  const cleanup = () => {
    for (const fd of fds.splice(0)) closeSync(fd);
    rmSync(path, { recursive: true, force: true });
  };
  return { path, log, cleanup };
}
