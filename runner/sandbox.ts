/**
 * The unprivileged users that run a person's commands (a job's script, its verify command,
 * Claude's `run_checks`). The runner starts as root only to hand each repository a uid of its own
 * from a small range, for a session: the checkout and a scratch HOME given to that uid once, the
 * repository's directory (the gate) passable by that uid only, and each command run in a box
 * (runner/sandbox-box.ts): its own PID, mount and IPC namespaces with no_new_privs where the
 * kernel allows it, so nothing of a command survives it and nothing it writes outside its
 * repository directory outlives it. Without namespaces (logged once as weaker), every process of
 * the uid is killed after each command (zombie leaders with live threads included) and what it
 * left in world-writable directories is removed, at any depth.
 * A different non-root uid cannot read the runner's `/proc/<pid>/environ`, its files, or
 * signal or ptrace its processes: that boundary, not the filtered environment, is what keeps the
 * runner's secrets from repository code.
 *
 * A uid is leased with an O_EXCL lock file per uid in a root-owned directory, so concurrent
 * sessions of one process (LOCAL_RUNNER=inprocess) or of several processes never share a uid,
 * and killing one command's processes never touches another's. A lease taken over from a dead
 * process first kills whatever of the uid is left. */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { chmod, lchown, lstat, mkdir, open as openFile, readdir, readFile, rename, rm, unlink, link, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isAlive } from "../core/runtime/index.ts";
import { boxedCommand, describeIsolation, mountPlan, PRIVATE_TMP_DIRS, probeIsolation, type Isolation, type MountPlan } from "./sandbox-box.ts";

/** The numeric identity a command runs as. */
export type SandboxUser = { uid: number; gid: number };

/**
 * One leased uid for a run of commands (a repository's script, verify and run_checks): the
 * paths are given to the uid once when the session opens, not twice per command.
 */
export type SandboxSession = {
  readonly user: SandboxUser;
  readonly isolation: Isolation;
  /** What to spawn to run `command` in `cwd` (see runner/sandbox-box.ts). */
  command(command: string, cwd: string): ReturnType<typeof boxedCommand>;
  /**
   * After each command: at the levels without a PID namespace, every process of the uid is
   * killed; with one, the kernel has killed them before the command's end was seen.
   */
  afterCommand(): Promise<void>;
  /**
   * Ends the session: what is left of the uid killed (levels without namespaces, and what it
   * left in world-writable directories removed), the gate closed again, `paths` given back to
   * the runner when `giveBack` (not needed when the runner deletes them next), lease released.
   */
  close(opts?: { giveBack?: boolean }): Promise<void>;
};

/** Runs commands as leased unprivileged users. */
export type Sandbox = {
  /**
   * Leases a free uid and makes `paths` (created when missing) owned by it. `gate`, a directory
   * of the runner's above them (mode 0710), lets only that uid's group pass until the session
   * closes, so no other user's command reaches what is inside (another repository's checkout,
   * git's HOME). Throws when no uid is free within `waitMs` or a path cannot be reached by
   * another user.
   */
  open(where: { paths: readonly string[]; gate?: string }, signal?: AbortSignal): Promise<SandboxSession>;
  /**
   * `open`, then `fn`, then `close({ giveBack: true })` whether `fn` resolved or threw: one
   * command's session (the paths belong to the runner again afterwards).
   */
  withUser<T>(where: { paths: readonly string[]; gate?: string }, fn: (session: SandboxSession) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Kills every process of `uid` (SIGKILL) and resolves when none is left. */
  killAll(uid: number): Promise<void>;
  /** The isolation level in force (probed once per process, on the first session). */
  isolation(): Promise<Isolation | undefined>;
};

/** Where the uids come from: `count` consecutive uids from `firstUid` (gid = uid), and the lock directory. */
export type SandboxSettings = {
  firstUid: number;
  count: number;
  lockDir: string;
  waitMs?: number;
  /** Told once which isolation level is in force; `weaker` when it is not the namespaces. */
  report?: (line: string, weaker: boolean) => void;
  /** Test-only: the level to use instead of the probed one (to exercise the fallbacks as root). */
  forceIsolation?: Isolation["kind"];
};

/** The default lock directory: /run is writable by root only. */
export const DEFAULT_SANDBOX_LOCK_DIR = "/run/cody-sandbox";

/** What a uid can write outside its own directories, searched after each session at the levels without a mount namespace. */
const WORLD_WRITABLE = [...PRIVATE_TMP_DIRS, "/dev/mqueue"];

/** A sandbox over `settings`; the caller checks that the process runs as root (see `sandboxFor`). */
export function newSandbox(settings: SandboxSettings): Sandbox {
  const owner = { uid: process.getuid!(), gid: process.getgid!() };
  let lockDirReady: Promise<void> | undefined;
  let probed: Promise<Isolation> | undefined;

  async function lease(signal?: AbortSignal): Promise<{ user: SandboxUser; tookOver: boolean; release: () => Promise<void> }> {
    await (lockDirReady ??= ensureLockDir(settings.lockDir, owner.uid));
    const deadline = Date.now() + (settings.waitMs ?? 10 * 60_000);
    // Start at a different uid in each process so concurrent processes rarely race for the same file.
    const start = process.pid % settings.count;
    for (;;) {
      for (let i = 0; i < settings.count; i++) {
        const uid = settings.firstUid + ((start + i) % settings.count);
        const file = join(settings.lockDir, `${uid}.lock`);
        const got = await tryLock(file);
        if (got) {
          return {
            user: { uid, gid: uid },
            tookOver: got === "taken-over",
            release: () => unlink(file).catch(() => undefined),
          };
        }
      }
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new Error(`no sandbox uid free in ${settings.firstUid}-${settings.firstUid + settings.count - 1} (SANDBOX_UIDS)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const isolationFor = (user: SandboxUser): Promise<Isolation> =>
    (probed ??= (async () => {
      let found = await probeIsolation(user);
      if (settings.forceIsolation && settings.forceIsolation !== found.kind) found = forced(found, settings.forceIsolation);
      settings.report?.(describeIsolation(found), found.kind !== "namespaces");
      return found;
    })());

  async function open(where: { paths: readonly string[]; gate?: string }, signal?: AbortSignal): Promise<SandboxSession> {
    const { paths, gate } = where;
    for (const p of paths) await mkdir(p, { recursive: true });
    await assertReachable(gate ?? paths[0]!);
    const { user, tookOver, release } = await lease(signal);
    let isolation: Isolation;
    try {
      isolation = await isolationFor(user);
      // A crashed runner may have left processes of this uid behind (without namespaces, or
      // with them if the runner died before its commands' namespaces): they must not see this session.
      if (tookOver || isolation.kind !== "namespaces") await killAll(user.uid);
      // One change of owner per session: the runner (root) needs no ownership to read, commit
      // or delete, and the agent's tools give what they create to the checkout's owner.
      for (const p of paths) await chownTree(p, user.uid, user.gid, true);
      if (gate) {
        await chmod(gate, 0o710);
        await lchown(gate, owner.uid, user.gid);
      }
    } catch (err) {
      await release();
      throw err;
    }
    // The one directory the command's mount namespace keeps writable (all its paths are below it).
    const keep = gate ?? commonParent(paths);
    let plan: MountPlan | undefined;
    if (isolation.kind === "namespaces") {
      try {
        plan = await mountPlan(keep, join(settings.lockDir, `${user.uid}.fstab`));
        await writeFile(plan.fstab, plan.fstabText, { mode: 0o600 });
      } catch (err) {
        await release();
        throw err;
      }
    }
    let closed = false;
    return {
      user,
      isolation,
      command: (command, cwd) => boxedCommand(isolation, user, { command, cwd, keep, ...(plan ? { plan } : {}) }),
      afterCommand: async () => {
        if (isolation.kind !== "namespaces") await killAll(user.uid);
      },
      async close(opts) {
        if (closed) return;
        closed = true;
        try {
          if (isolation.kind !== "namespaces") {
            await killAll(user.uid);
            await removeOwnedBy(user.uid);
          }
          if (gate) await lchown(gate, owner.uid, owner.gid).catch(() => undefined);
          if (opts?.giveBack) for (const p of paths) await chownTree(p, owner.uid, owner.gid, false).catch(() => undefined);
          if (plan) await rm(plan.fstab, { force: true });
        } finally {
          // Released even if a sweep failed: at the levels without namespaces (and after a crash,
          // a lease taken over) the next lease kills what is left of the uid first.
          await release();
        }
      },
    };
  }

  return {
    killAll,
    open,
    isolation: () => probed ?? Promise.resolve(undefined),
    async withUser(where, fn, signal) {
      const session = await open(where, signal);
      try {
        return await fn(session);
      } finally {
        await session.close({ giveBack: true });
      }
    },
  };
}

/** `found` lowered to `kind` (tests of the fallbacks); never raised. */
function forced(found: Isolation, kind: Isolation["kind"]): Isolation {
  const reason = "forced by the test settings";
  if (kind === "no-new-privs" && found.kind === "namespaces") return { kind, setpriv: found.setpriv, reason };
  if (kind === "uid") return { kind, reason };
  return found;
}

/** The deepest directory holding every path of `paths`. */
function commonParent(paths: readonly string[]): string {
  let common = paths[0]!;
  for (const p of paths.slice(1)) while (common !== "/" && p !== common && !p.startsWith(`${common}/`)) common = dirname(common);
  return common;
}

/**
 * The sandbox of this process: undefined (commands run as the runner's own user, as before)
 * when `uids` is undefined (SANDBOX_UIDS=off) or the process (`uid`) is not root, which `warn`
 * reports. `info` hears which isolation level is in force once it is known.
 */
export function sandboxFor(
  opts: { uids?: { firstUid: number; count: number }; lockDir?: string; info?: (msg: string) => void },
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
  const info = opts.info;
  return newSandbox({ ...opts.uids, lockDir: opts.lockDir ?? DEFAULT_SANDBOX_LOCK_DIR, report: (line, weaker) => (weaker || !info ? warn(line) : info(line)) });
}

async function ensureLockDir(dir: string, uid: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  // Another user must not be able to delete a lease (two commands would then share a uid).
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`sandbox lock directory ${dir} must be a directory owned by uid ${uid} and writable only by it`);
  }
}

/** Takes the lock file (O_EXCL); a lock whose process is gone is taken over (then the uid's leftovers must be killed). */
async function tryLock(file: string, takingOver = false): Promise<false | "fresh" | "taken-over"> {
  try {
    const fh = await openFile(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    await fh.writeFile(`${process.pid}\n`);
    await fh.close();
    return takingOver ? "taken-over" : "fresh";
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
  return tryLock(file, true);
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

/**
 * Pids whose real, effective, saved or filesystem uid is `uid`, zombies left out unless other
 * threads of theirs still run (a thread-group leader that called SYS_exit shows `Z` while its
 * threads work on: the escape of the last review).
 */
async function processesOf(uid: number): Promise<number[]> {
  const names = (await readdir("/proc")).filter((n) => /^\d+$/.test(n));
  const found = await Promise.all(
    names.map(async (name) => {
      const status = await readFile(`/proc/${name}/status`, "utf8").catch(() => "");
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      const uids = /^Uid:\s+(.+)$/m.exec(status)?.[1]?.split(/\s+/).map(Number) ?? [];
      const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? "1");
      const live = state !== undefined && ((state !== "Z" && state !== "X") || threads > 1);
      return live && uids.includes(uid) ? Number(name) : undefined;
    }),
  );
  return found.filter((p): p is number => p !== undefined);
}

/**
 * Removes what `uid` created in the world-writable directories, at any depth: a uid can only
 * create entries where others may write (or in its own directories, removed whole), so the walk
 * descends only into world-writable directories.
 */
async function removeOwnedBy(uid: number): Promise<void> {
  const walk = async (dir: string, depth: number): Promise<void> => {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const p = join(dir, name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.uid === uid) await rm(p, { recursive: true, force: true }).catch(() => undefined);
      else if (st.isDirectory() && (st.mode & 0o002) !== 0 && depth < 32) await walk(p, depth + 1);
    }
  };
  for (const dir of WORLD_WRITABLE) await walk(dir, 0);
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
