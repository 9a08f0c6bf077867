/**
 * The unprivileged users that run a person's commands (a job's script, its verify command,
 * Claude's `run_checks`). The runner starts as root only to hand each command a uid of its own
 * from a small range: supplementary groups cleared (libuv calls `setgroups(0, NULL)` when it
 * switches uid), the checkout and a scratch HOME owned by that uid while the command runs, and
 * afterwards every process of the uid killed (`setsid` children included), what it left in the
 * world-writable temporary directories removed, and the files given back to the runner.
 * A different non-root uid cannot read the runner's `/proc/<pid>/environ`, its files, or
 * signal or ptrace its processes: that boundary, not the filtered environment, is what keeps the
 * runner's secrets from repository code.
 *
 * A uid is leased with an O_EXCL lock file per uid in a root-owned directory, so concurrent
 * commands of one process (LOCAL_RUNNER=inprocess) or of several processes never share a uid,
 * and killing one command's processes never touches another's.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { chmod, lchown, lstat, mkdir, open, readdir, readFile, rename, rm, unlink, link, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isAlive } from "../core/runtime/index.ts";

/** The numeric identity a command runs as. */
export type SandboxUser = { uid: number; gid: number };

/** Runs commands as leased unprivileged users. */
export type Sandbox = {
  /**
   * Leases a free uid, makes `paths` (created when missing) owned by it, and calls `fn` with it.
   * `gate`, a directory of the runner's above them (mode 0710), lets only that uid's group pass
   * while `fn` runs, so no other user's command reaches what is inside (another repository's
   * checkout, git's HOME).
   * Afterwards — whether `fn` resolved or threw — every process of the uid is killed, what the
   * uid owns in /tmp, /var/tmp and /dev/shm is removed, `paths` are owned by the runner again,
   * and the lease is released. Throws when no uid is free within `waitMs` or a path cannot be
   * reached by another user.
   */
  withUser<T>(where: { paths: readonly string[]; gate?: string }, fn: (user: SandboxUser) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Kills every process of `uid` (SIGKILL) and resolves when none is left. */
  killAll(uid: number): Promise<void>;
};

/** Where the uids come from: `count` consecutive uids from `firstUid` (gid = uid), and the lock directory. */
export type SandboxSettings = { firstUid: number; count: number; lockDir: string; waitMs?: number };

/** The default lock directory: /run is writable by root only. */
export const DEFAULT_SANDBOX_LOCK_DIR = "/run/cody-sandbox";

const WORLD_WRITABLE = ["/tmp", "/var/tmp", "/dev/shm"];

/** A sandbox over `settings`; the caller checks that the process runs as root (see `sandboxFor`). */
export function newSandbox(settings: SandboxSettings): Sandbox {
  const owner = { uid: process.getuid!(), gid: process.getgid!() };
  let lockDirReady: Promise<void> | undefined;

  async function lease(signal?: AbortSignal): Promise<{ user: SandboxUser; release: () => Promise<void> }> {
    await (lockDirReady ??= ensureLockDir(settings.lockDir, owner.uid));
    const deadline = Date.now() + (settings.waitMs ?? 10 * 60_000);
    // Start at a different uid in each process so concurrent processes rarely race for the same file.
    const start = process.pid % settings.count;
    for (;;) {
      for (let i = 0; i < settings.count; i++) {
        const uid = settings.firstUid + ((start + i) % settings.count);
        const file = join(settings.lockDir, `${uid}.lock`);
        if (await tryLock(file)) {
          return {
            user: { uid, gid: uid },
            release: () => unlink(file).catch(() => undefined),
          };
        }
      }
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new Error(`no sandbox uid free in ${settings.firstUid}-${settings.firstUid + settings.count - 1} (SANDBOX_UIDS)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  return {
    killAll,
    async withUser({ paths, gate }, fn, signal) {
      for (const p of paths) await mkdir(p, { recursive: true });
      await assertReachable(gate ?? paths[0]!);
      const { user, release } = await lease(signal);
      try {
        // A crashed runner may have left processes of this uid behind: they must not see this command.
        await killAll(user.uid);
        for (const p of paths) await chownTree(p, user.uid, user.gid, true);
        if (gate) {
          await chmod(gate, 0o710);
          await lchown(gate, owner.uid, user.gid);
        }
        return await fn(user);
      } finally {
        try {
          await killAll(user.uid);
          if (gate) await lchown(gate, owner.uid, owner.gid).catch(() => undefined);
          await removeOwnedBy(user.uid);
          for (const p of paths) await chownTree(p, owner.uid, owner.gid, false).catch(() => undefined);
        } finally {
          // A uid whose processes survived is released too: the next lease kills them first.
          await release();
        }
      }
    },
  };
}

/**
 * The sandbox of this process: undefined (commands run as the runner's own user, as before)
 * when `uids` is undefined (SANDBOX_UIDS=off) or the process (`uid`) is not root, which `warn`
 * reports.
 */
export function sandboxFor(
  opts: { uids?: { firstUid: number; count: number }; lockDir?: string },
  warn: (msg: string) => void,
  uid: number | undefined = process.getuid?.(),
): Sandbox | undefined {
  if (!opts.uids) {
    warn("SANDBOX_UIDS=off: scripts, verify commands and run_checks run as the runner's own user and can read its environment");
    return undefined;
  }
  if (uid !== 0) {
    warn("the runner is not root: scripts, verify commands and run_checks run as the runner's own user and can read its environment (run as root to give each command an unprivileged uid)");
    return undefined;
  }
  return newSandbox({ ...opts.uids, lockDir: opts.lockDir ?? DEFAULT_SANDBOX_LOCK_DIR });
}

async function ensureLockDir(dir: string, uid: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  // Another user must not be able to delete a lease (two commands would then share a uid).
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`sandbox lock directory ${dir} must be a directory owned by uid ${uid} and writable only by it`);
  }
}

/** Takes the lock file (O_EXCL); a lock whose process is gone is taken over. */
async function tryLock(file: string): Promise<boolean> {
  try {
    const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    await fh.writeFile(`${process.pid}\n`);
    await fh.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
  // A lock being written right now reads empty: leave it to its owner.
  if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) return false;
  // Move the stale lock aside (only one taker wins the rename); if what was moved is not the
  // stale lock read above (someone took it over meanwhile), put it back.
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(file, aside);
  } catch {
    return false;
  }
  const moved = Number((await readFile(aside, "utf8").catch(() => "")).trim());
  if (moved !== pid) {
    await link(aside, file).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    return false;
  }
  await unlink(aside).catch(() => undefined);
  return tryLock(file);
}

/**
 * Kills every process whose real, effective or saved uid is `uid`: when /proc lists any, first
 * `kill -9 -1` run as that uid (the kernel signals all of them at once, so a forking process
 * cannot escape), then SIGKILL from here to anything still listed, until nothing but zombies is left.
 */
async function killAll(uid: number): Promise<void> {
  for (let pass = 0; pass < 100; pass++) {
    const left = await processesOf(uid);
    if (left.length === 0) return;
    if (pass === 0) {
      await new Promise<void>((resolve) => {
        const k = spawn("/bin/sh", ["-c", "kill -9 -1"], { uid, gid: uid, stdio: "ignore", env: { PATH: "/usr/bin:/bin" } });
        k.on("error", () => resolve());
        k.on("close", () => resolve());
      });
      continue;
    }
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`processes of sandbox uid ${uid} survived SIGKILL`);
}

/** Pids (not zombies) whose real, effective, saved or filesystem uid is `uid`. */
async function processesOf(uid: number): Promise<number[]> {
  const names = (await readdir("/proc")).filter((n) => /^\d+$/.test(n));
  const found = await Promise.all(
    names.map(async (name) => {
      const status = await readFile(`/proc/${name}/status`, "utf8").catch(() => "");
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      const uids = /^Uid:\s+(.+)$/m.exec(status)?.[1]?.split(/\s+/).map(Number) ?? [];
      return state && state !== "Z" && state !== "X" && uids.includes(uid) ? Number(name) : undefined;
    }),
  );
  return found.filter((p): p is number => p !== undefined);
}

/** Removes what `uid` created at the top of the world-writable temporary directories. */
async function removeOwnedBy(uid: number): Promise<void> {
  for (const dir of WORLD_WRITABLE) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const p = join(dir, name);
      const st = await lstat(p).catch(() => undefined);
      if (st?.uid === uid) await rm(p, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/**
 * Changes the owner of `root` and everything under it, never following a symbolic link. Giving
 * files away (`toSandbox`) skips hard-linked files: one could be a link to a file of the
 * runner's elsewhere (where the kernel allows linking others' files).
 */
async function chownTree(root: string, uid: number, gid: number, toSandbox: boolean): Promise<void> {
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p);
    if (toSandbox && !st.isDirectory() && st.nlink > 1) return;
    await lchown(p, uid, gid);
    if (!st.isDirectory()) return;
    const names = await readdir(p);
    // Bounded fan-out: libuv's thread pool does the work; thousands of pending calls only queue.
    for (let i = 0; i < names.length; i += 64) await Promise.all(names.slice(i, i + 64).map((n) => walk(join(p, n))));
  };
  await walk(root);
}

/** Throws unless every directory above `path` can be traversed by other users. */
async function assertReachable(path: string): Promise<void> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const st = await stat(dir);
    if ((st.mode & 0o001) === 0) {
      throw new Error(`the sandbox user cannot reach ${path}: ${dir} is not searchable by other users (mode ${(st.mode & 0o777).toString(8)})`);
    }
    if (dirname(dir) === dir) return;
  }
}
