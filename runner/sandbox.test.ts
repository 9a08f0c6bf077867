/**
 * The sandbox users: leases never shared (in one process or across processes), stale leases
 * taken over, every process of the uid gone after the command (setsid children, timeouts,
 * aborts), files given back to the runner. Switching users needs root (CI runs as root): when
 * not root these tests FAIL, they do not skip.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../core/config/index.ts";
import { runCommand } from "./command.ts";
import { newSandbox, sandboxFor, type Sandbox } from "./sandbox.ts";

const FIRST = 62000;
let base: string;
let lockDir: string;
let sandbox: Sandbox;

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to switch users (CI runs as root); it fails rather than passing silently");
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "cody-sandbox-test-"));
  chmodSync(base, 0o711);
  lockDir = join(base, "locks");
  if (process.getuid?.() === 0) sandbox = newSandbox({ firstUid: FIRST, count: 3, lockDir, waitMs: 5000 });
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

function freshDir(name: string): string {
  const d = join(base, name);
  mkdirSync(d, { recursive: true });
  return d;
}

function processesOf(uid: number): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const status = readFileSync(`/proc/${p}/status`, "utf8");
        return !/^State:\s+Z/m.test(status) && new RegExp(`^Uid:\\s+${uid}\\s`, "m").test(status);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("SANDBOX_UIDS", () => {
  it.each([
    { v: undefined, want: { firstUid: 61000, count: 16 } },
    { v: "62000-62003", want: { firstUid: 62000, count: 4 } },
    { v: "62000", want: { firstUid: 62000, count: 1 } },
    { v: "off", want: undefined },
  ])("$v → $want", ({ v, want }) => {
    expect(loadConfig(v === undefined ? {} : { SANDBOX_UIDS: v }).sandbox.uids).toEqual(want);
  });
  it.each(["0-10", "62003-62000", "abc", "1000-5000", "-1"])("refuses %s", (v) => {
    expect(() => loadConfig({ SANDBOX_UIDS: v })).toThrow(ConfigError);
    expect(() => loadConfig({ SANDBOX_UIDS: v })).toThrow(/^SANDBOX_UIDS: must be a uid range/);
  });
  it("not root: no sandbox (commands run as before), and the log says why", () => {
    const warnings: string[] = [];
    expect(sandboxFor({ uids: { firstUid: FIRST, count: 1 } }, (m) => warnings.push(m), 1000)).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/^the runner is not root: .*can read its environment/)]);
  });
  it("off: no sandbox, and the log says why", () => {
    const warnings: string[] = [];
    expect(sandboxFor({}, (m) => warnings.push(m))).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/SANDBOX_UIDS=off: .*run as the runner's own user/)]);
  });
});

describe("sandbox users (needs root: fails, does not skip, when not root)", () => {
  it("as root: a command runs as a leased uid with no supplementary groups and owns its checkout and HOME only while it runs", async () => {
    requireRoot();
    const cwd = freshDir("own");
    const home = join(base, "own-home");
    writeFileSync(join(cwd, "f.txt"), "x");
    // A hard link to a file of the runner's outside the checkout is never given away.
    const outside = join(base, "runner-file.txt");
    writeFileSync(outside, "runner's");
    linkSync(outside, join(cwd, "linked.txt"));
    const r = await runCommand(
      'id -u; grep "^Groups:" /proc/self/status; echo new > made.txt; mkdir -p d/e; touch "$HOME/h"; stat -c %u f.txt; echo pwned >> linked.txt 2>/dev/null',
      { cwd, env: { PATH: process.env.PATH, HOME: home }, timeoutSeconds: 30, sandbox },
    );
    expect(r.kind).toBe("exited");
    const [uid, groups, owner] = r.output.trim().split("\n");
    expect(Number(uid)).toBeGreaterThanOrEqual(FIRST);
    expect(Number(uid)).toBeLessThan(FIRST + 3);
    expect(groups).toMatch(/^Groups:\s*$/);
    expect(owner).toBe(uid);
    // Back to the runner afterwards, symbolic links untouched.
    for (const p of [cwd, join(cwd, "made.txt"), join(cwd, "d", "e"), home, join(home, "h")]) expect(lstatSync(p).uid).toBe(0);
    expect(readFileSync(outside, "utf8")).toBe("runner's");
    expect(readdirSync(lockDir)).toEqual([]);
  });

  it("as root: concurrent commands never share a uid, and a lease held by a live process elsewhere is skipped", async () => {
    requireRoot();
    // Another process holds the first uid (its pid is alive); a dead holder of the second is taken over.
    mkdirSync(lockDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(lockDir, `${FIRST}.lock`), `${process.ppid}\n`);
    writeFileSync(join(lockDir, `${FIRST + 1}.lock`), "999999999\n");
    try {
      const dirs = [freshDir("c1"), freshDir("c2")];
      const results = await Promise.all(dirs.map((cwd) => runCommand("id -u; sleep 0.5", { cwd, env: { PATH: process.env.PATH }, timeoutSeconds: 30, sandbox })));
      const uids = results.map((r) => Number(r.output.trim()));
      expect(new Set(uids).size).toBe(2);
      expect(uids).not.toContain(FIRST);
      expect(uids.sort()).toEqual([FIRST + 1, FIRST + 2]);
      expect(readFileSync(join(lockDir, `${FIRST}.lock`), "utf8")).toBe(`${process.ppid}\n`);
    } finally {
      rmSync(join(lockDir, `${FIRST}.lock`), { force: true });
    }
  });

  it("as root: nothing of the command survives it — setsid and double-forked children, on exit, timeout and abort", async () => {
    requireRoot();
    const cwd = freshDir("kill");
    const leftBehind = "setsid sleep 3141 >/dev/null 2>&1 </dev/null & (sh -c 'sleep 3142 >/dev/null 2>&1 </dev/null &') ; echo started";
    const exited = await runCommand(leftBehind, { cwd, env: { PATH: process.env.PATH }, timeoutSeconds: 30, sandbox });
    expect(exited).toMatchObject({ kind: "exited", code: 0 });
    const timedOut = await runCommand(`${leftBehind}; sleep 30`, { cwd, env: { PATH: process.env.PATH }, timeoutSeconds: 1, graceMs: 100, sandbox });
    expect(timedOut.kind).toBe("timed_out");
    const ac = new AbortController();
    const pending = runCommand(`${leftBehind}; sleep 30`, { cwd, env: { PATH: process.env.PATH }, timeoutSeconds: 30, graceMs: 100, sandbox }, ac.signal);
    setTimeout(() => ac.abort(), 300);
    expect((await pending).kind).toBe("aborted");
    for (let uid = FIRST; uid < FIRST + 3; uid++) expect(processesOf(uid)).toEqual([]);
  });

  it("as root: a gated repository directory is closed to every other command, during and after its own", async () => {
    requireRoot();
    const gates = ["g1", "g2"].map((n) => {
      const g = freshDir(n);
      chmodSync(g, 0o710);
      mkdirSync(join(g, "repo"));
      writeFileSync(join(g, "repo", "private.txt"), "private of " + n);
      return g;
    });
    const run = (i: number, command: string) =>
      runCommand(command, { cwd: join(gates[i]!, "repo"), env: { PATH: process.env.PATH, HOME: join(gates[i]!, "home") }, timeoutSeconds: 30, sandbox, gate: gates[i]! });
    // g1's command is still running while g2's tries to read g1's checkout.
    const first = run(0, "cat private.txt; sleep 1");
    const second = await run(1, `sleep 0.3; cat ${gates[0]}/repo/private.txt; ls ${gates[0]}; cat private.txt`);
    expect((await first).output).toContain("private of g1");
    // Without namespaces the gate refuses (Permission denied); with them g1 is not even in g2's view.
    expect(second.output).toMatch(/Permission denied|No such file or directory/);
    expect(second.output).not.toContain("private of g1");
    expect(second.output).toContain("private of g2");
    for (const g of gates) expect(statSync(g)).toMatchObject({ uid: 0, gid: 0 });
  });

  it("as root: killAll leaves other uids alone", async () => {
    requireRoot();
    const other = spawn("sleep", ["30"], { uid: FIRST + 5, gid: FIRST + 5, stdio: "ignore" });
    try {
      await new Promise((r) => other.once("spawn", r));
      await sandbox.killAll(FIRST + 4);
      expect(other.exitCode).toBeNull();
      expect(processesOf(FIRST + 5)).toEqual([other.pid]);
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("as root: what the command left in /tmp is removed; a checkout another user cannot reach is refused with a clear reason", async () => {
    requireRoot();
    const cwd = freshDir("tmp");
    const name = `cody-sandbox-left-${process.pid}`;
    await runCommand(`echo x > /tmp/${name}`, { cwd, env: { PATH: process.env.PATH }, timeoutSeconds: 30, sandbox });
    expect(existsSync(`/tmp/${name}`)).toBe(false);
    const closed = mkdtempSync(join(tmpdir(), "cody-sandbox-closed-"));
    try {
      expect(statSync(closed).mode & 0o777).toBe(0o700);
      await expect(runCommand("true", { cwd: join(closed, "repo"), env: { PATH: process.env.PATH }, timeoutSeconds: 30, sandbox })).rejects.toThrow(
        /cannot reach .*repo: .* is not searchable by other users \(mode 700\)/,
      );
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });
});
