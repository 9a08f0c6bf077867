/**
 * The box each sandboxed command runs in (issue 18). With root and a kernel that allows it, every
 * command gets:
 *   - its own PID namespace (`unshare --pid --fork --kill-child --mount-proc`): the command's
 *     shell runs under a small init, and when that init ends the kernel kills everything left in
 *     the namespace — `setsid` children, double forks, and a zombie thread-group leader whose
 *     other threads still run — before the runner hears that the command ended. No sweep of
 *     /proc is needed to find them, and the command's /proc shows only its own processes.
 *   - its own mount and IPC namespaces: every mount of the machine read-only, nosuid and nodev
 *     (so nothing it writes outside its checkout and HOME outlives it, and no setuid file anywhere
 *     gains anything), fresh tmpfs on /tmp, /var/tmp, /dev/shm and /run/lock (nosuid, nodev; gone
 *     with the command), the repository's directory bound back where it was; SysV and POSIX IPC
 *     objects die with the namespace.
 *   - PR_SET_NO_NEW_PRIVS (`setpriv --no-new-privs`), uid and gid switched, supplementary groups
 *     cleared: no setuid/setgid/file-capability program can raise it, whatever a filesystem holds.
 *   - PR_SET_PDEATHSIG (`setpriv --pdeathsig KILL` on `unshare`): if the runner itself dies
 *     (SIGKILL, Ctrl-C of a worker), `unshare` dies, its child (the namespace's init) gets SIGKILL
 *     (`--kill-child`), and the namespace goes with it.
 * Why namespaces and not a better sweep: a sweep that reads /proc races with forks and misreads
 * states (the zombie-leader escape of the last review); a PID namespace is the kernel's own
 * "kill this whole tree", and a private mount namespace removes "what did it leave where" instead
 * of answering it one directory at a time.
 *
 * Where the kernel or the container refuses namespaces (AWS Fargate has no CAP_SYS_ADMIN), the
 * strongest level that works is used and logged once as a warning: `no-new-privs` (setpriv:
 * uid, no groups, no_new_privs; the runner then kills every process of the uid and removes what
 * it left in world-writable directories after each command), else `uid` (the same without
 * no_new_privs). Never silently weaker.
 */
import { spawn } from "node:child_process";
import { access, constants, lstat, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How strongly commands are isolated in this process (see the module comment). */
export type Isolation =
  | { kind: "namespaces"; mount: string; setpriv: string; unshare: string }
  | { kind: "no-new-privs"; setpriv: string; reason: string }
  | { kind: "uid"; reason: string };

/** The directories that get a fresh tmpfs in a command's mount namespace. */
export const PRIVATE_TMP_DIRS = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock"] as const;

/**
 * The namespace's init, run as root inside the new PID, mount and IPC namespaces:
 * $1 mount, $2 setpriv, $3 uid, $4 gid, $5 the command's cwd, $6 the command, $7 the directory
 * to keep (the repository's directory), $8 the session's fstab (see `sessionFstab`), then the
 * mount points to make read-only.
 * It holds the kept directory open on fd 3, mounts what the fstab lists in one `mount -a` (fresh
 * tmpfs on the temporary directories, then the kept directory bound back at its path through
 * fd 3: the path itself may now be inside a fresh tmpfs), makes every other writable mount
 * read-only/nosuid/nodev, then runs the command as the uid under no_new_privs and waits for it.
 * SIGTERM (timeout, cancel) is passed to every process of the namespace. When the command's
 * shell ends, so does this init, and the kernel kills whatever else is left.
 * `-n`: no /run/mount/utab update; `-c`: the /proc/self/fd path goes to the kernel as it is
 * (util-linux mount; busybox's has neither `-a -T` nor `-c`, and the probe then falls back).
 * Execs per command: setpriv, unshare, sh, mount, mount per writable mount (usually just /),
 * setpriv, sh — one `mount -a` instead of one mount per directory.
 */
const INIT = `set -eu
M=$1 S=$2 u=$3 g=$4 cwd=$5 cmd=$6 keep=$7 fstab=$8
shift 8
exec 3<"$keep"
"$M" -a -c -n -T "$fstab"
exec 3<&-
for mp in "$@"; do "$M" -n -o remount,bind,ro,nosuid,nodev -- "$mp"; done
cd -- "$cwd"
trap 'kill -TERM -1 2>/dev/null' TERM HUP INT
"$S" --no-new-privs --reuid "$u" --regid "$g" --clear-groups -- /bin/sh -c "$cmd" &
c=$!
while :; do r=0; wait "$c" || r=$?; kill -0 "$c" 2>/dev/null || break; done
exit "$r"
`;

/** A session's mount plan: the fstab file (written by the caller, 0600) and the mounts to make read-only. */
export type MountPlan = { fstab: string; fstabText: string; readOnly: string[] };

/**
 * The mount plan for commands that keep `keep`: tmpfs on each temporary directory that exists
 * (and is no symbolic link), a fresh mqueue where /dev/mqueue exists, `keep` bound back last;
 * read-only: every writable mount of this process's view outside /proc, /sys, /dev and those.
 */
export async function mountPlan(keep: string, fstab: string): Promise<MountPlan> {
  const lines: string[] = [];
  const masked: string[] = [];
  for (const d of PRIVATE_TMP_DIRS) {
    const st = await lstat(d).catch(() => undefined);
    if (st?.isDirectory()) {
      lines.push(`cody-sandbox ${fstabEscape(d)} tmpfs nosuid,nodev,mode=1777 0 0`);
      masked.push(d);
    }
  }
  if ((await lstat("/dev/mqueue").catch(() => undefined))?.isDirectory()) lines.push("mqueue /dev/mqueue mqueue nosuid,nodev,noexec 0 0");
  lines.push(`/proc/self/fd/3 ${fstabEscape(keep)} none bind,X-mount.mkdir 0 0`);
  const readOnly: string[] = [];
  for (const line of (await readFile("/proc/self/mountinfo", "utf8")).split("\n")) {
    const f = line.split(" ");
    if (f.length < 6) continue;
    const mp = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (/^\/(proc|sys|dev)(\/|$)/.test(mp) || masked.includes(mp) || mp === keep) continue;
    if (f[5]!.split(",").includes("ro")) continue;
    readOnly.push(mp);
  }
  return { fstab, fstabText: `${lines.join("\n")}\n`, readOnly: [...new Set(readOnly)] };
}

/** A path as fstab spells it (whitespace and backslash as octal escapes). */
function fstabEscape(p: string): string {
  return p.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/** What to spawn for `command` as `user` under `isolation`: the file, its arguments, and the uid/gid node must switch to itself (level `uid`). */
export function boxedCommand(
  isolation: Isolation,
  user: { uid: number; gid: number },
  input: { command: string; cwd: string; keep: string; plan?: MountPlan },
): { file: string; args: string[]; switchTo?: { uid: number; gid: number } } {
  switch (isolation.kind) {
    case "namespaces":
      return {
        file: isolation.setpriv,
        args: [
          "--pdeathsig", "KILL", "--",
          isolation.unshare, "--pid", "--fork", "--kill-child", "--mount", "--ipc", "--mount-proc", "--",
          "/bin/sh", "-c", INIT, "cody-sandbox-init",
          isolation.mount, isolation.setpriv, String(user.uid), String(user.gid), input.cwd, input.command, input.keep, input.plan!.fstab, ...input.plan!.readOnly,
        ],
      };
    case "no-new-privs":
      return {
        file: isolation.setpriv,
        args: ["--pdeathsig", "KILL", "--no-new-privs", "--reuid", String(user.uid), "--regid", String(user.gid), "--clear-groups", "--", "/bin/sh", "-c", input.command],
      };
    case "uid":
      return { file: "/bin/sh", args: ["-c", input.command], switchTo: user };
  }
}

/** One line for the log: what holds at `isolation`. */
export function describeIsolation(isolation: Isolation): string {
  switch (isolation.kind) {
    case "namespaces":
      return "sandbox isolation: namespaces — each command in its own PID, mount and IPC namespace, no_new_privs, every mount read-only/nosuid/nodev but its repository directory, private /tmp /var/tmp /dev/shm /run/lock";
    case "no-new-privs":
      return `sandbox isolation WEAKER: no-new-privs — no namespaces (${isolation.reason}); each command runs as its uid with no_new_privs, and after it every process of the uid is killed and what it left in world-writable directories removed`;
    case "uid":
      return `sandbox isolation WEAKER: uid only — no namespaces and no setpriv (${isolation.reason}); each command runs as its uid, and after it every process of the uid is killed and what it left in world-writable directories removed`;
  }
}

/**
 * Finds the strongest level this machine allows, by running a probe command as `user` at each
 * level in turn (once per process; the caller caches it).
 */
export async function probeIsolation(user: { uid: number; gid: number }, env: NodeJS.ProcessEnv = process.env): Promise<Isolation> {
  const path = `${env.PATH ?? ""}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  const [setpriv, unshare, mount] = await Promise.all(["setpriv", "unshare", "mount"].map((n) => which(n, path)));
  const dir = await mkdtemp(join(tmpdir(), "cody-sandbox-probe-"));
  try {
    // The probe's own checks (the init stops at the first mount that fails): the uid, no_new_privs, a writable /tmp.
    const check = `test "$(id -u)" = ${user.uid} && grep -q '^NoNewPrivs:[[:space:]]*1' /proc/self/status && touch /tmp/p && echo ok`;
    let reason = "";
    if (setpriv && unshare && mount) {
      const ns: Isolation = { kind: "namespaces", setpriv, unshare, mount };
      const plan = await mountPlan(dir, join(dir, "fstab"));
      await writeFile(plan.fstab, plan.fstabText, { mode: 0o600 });
      const r = await run(boxedCommand(ns, user, { command: check, cwd: "/", keep: dir, plan }));
      if (r.ok) return ns;
      reason = `unshare refused: ${r.output.trim().split("\n").pop() ?? `exit ${r.code}`}`;
    } else {
      reason = `missing ${[!setpriv && "setpriv", !unshare && "unshare", !mount && "mount"].filter(Boolean).join(", ")} (util-linux)`;
    }
    if (setpriv) {
      const nnp: Isolation = { kind: "no-new-privs", setpriv, reason };
      const r = await run(boxedCommand(nnp, user, { command: `test "$(id -u)" = ${user.uid} && grep -q '^NoNewPrivs:[[:space:]]*1' /proc/self/status && echo ok`, cwd: "/", keep: dir }));
      if (r.ok) return nnp;
      reason += `; setpriv refused: ${r.output.trim().split("\n").pop() ?? `exit ${r.code}`}`;
    }
    return { kind: "uid", reason };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(cmd: ReturnType<typeof boxedCommand>): Promise<{ ok: boolean; code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = "";
    const child = spawn(cmd.file, cmd.args, { cwd: "/", stdio: ["ignore", "pipe", "pipe"], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, ...(cmd.switchTo ?? {}) });
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", (err) => resolve({ ok: false, code: null, output: String(err) }));
    child.on("close", (code) => resolve({ ok: code === 0 && output.trim().endsWith("ok"), code, output }));
  });
}

async function which(name: string, path: string): Promise<string | undefined> {
  for (const dir of path.split(":").filter((d) => d.startsWith("/"))) {
    const p = join(dir, name);
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  return undefined;
}
