/**
 * The embedded stack's daemon through the bundled CLI: concurrent starts on a fresh CODY_DIR, a
 * daemon that outlives the command that started it, a killed daemon replaced, and stack failures
 * as one line with exit 1. Every daemon started here is stopped in afterAll.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopStack } from "../environment/index.ts";
import { runCli } from "./support/cli.ts";
import { tempRemotes, type TestRemotes } from "./support/stack.ts";

const dirs: string[] = [];
let remotes: TestRemotes;

beforeAll(() => {
  remotes = tempRemotes();
  remotes.make("acme/one", { "a.txt": "1\n" });
  remotes.make("acme/two", { "a.txt": "1\n" });
});
afterAll(async () => {
  for (const d of dirs) await stopStack(d);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  remotes?.cleanup();
});

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), "cody-daemon-"));
  dirs.push(d);
  return d;
}

/** The environment of a local CLI: no endpoints (so the daemon), this test's remotes. */
function localEnv(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CODY_DIR: dir, GIT_BASE_URL: remotes.gitBaseUrl, LOG_LEVEL: "silent", CODY_STACK_IDLE_SECONDS: "300", ...extra };
  for (const k of ["DYNAMODB_ENDPOINT", "S3_ENDPOINT", "ALLOWED_REPOSITORIES", "LAUNCHER", "SLACK_BOT_TOKEN", "GITHUB_TOKEN"]) delete env[k];
  return env;
}

const daemonPid = (dir: string) => (JSON.parse(readFileSync(join(dir, "stack.json"), "utf8")) as { pid: number }).pid;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// Each test starts several CLI processes (and the first may rebuild the bundle): a generous limit.
const SLOW = { timeout: 240_000 };

describe("the stack daemon", () => {
  it("says once, from the command that started it, that the stack keeps running and how to stop it (issue 21)", SLOW, async () => {
    const dir = freshDir();
    const notice = "cody: the embedded stack keeps running in the background for the next commands (stops after 5 min unused; now: cody stack stop)\n";
    const first = await runCli(["list"], localEnv(dir), 120_000);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr.split(notice).length - 1).toBe(1);
    const second = await runCli(["list"], localEnv(dir), 120_000);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain("keeps running");
  });

  it("ten concurrent `cody list` on a fresh directory all succeed against one daemon", SLOW, async () => {
    const dir = freshDir();
    const results = await Promise.all(Array.from({ length: 10 }, () => runCli(["list"], localEnv(dir), 120_000)));
    for (const r of results) {
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe("no jobs yet\n");
      expect(r.code).toBe(0);
    }
    const log = readFileSync(join(dir, "stack.log"), "utf8");
    expect(log.match(/ ready: pid /g)).toHaveLength(1);
    expect(alive(daemonPid(dir))).toBe(true);
    const status = await runCli(["stack", "status", "--json"], localEnv(dir));
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: daemonPid(dir) });
  });

  it("keeps running when the command that started it exits: a second client's job still finishes", SLOW, async () => {
    const dir = freshDir();
    const env = localEnv(dir, { LOCAL_RUNNER: "inprocess" });
    const owner = runCli(["run", "--repo", "acme/one", "--script", "echo owner > a.txt", "--json"], env, 120_000);
    // The second client starts once the daemon the owner started is announced.
    for (let i = 0; i < 1200 && !readFileSafe(join(dir, "stack.json")); i++) await new Promise((r) => setTimeout(r, 50));
    // The second job waits (mid-job, in its script) until the owner has exited.
    // (in a directory anyone may read: scripts may run as another uid, runner/command.ts; not
    // under /tmp, which a sandboxed script sees as its own empty tmpfs, runner/sandbox-box.ts)
    const markDir = mkdtempSync("/run/cody-daemon-mark-");
    dirs.push(markDir);
    chmodSync(markDir, 0o755);
    const mark = join(markDir, "owner-exited");
    const second = runCli(["run", "--repo", "acme/two", "--script", `while [ ! -f ${mark} ]; do sleep 0.1; done; echo second > a.txt`, "--json"], env, 120_000);
    const first = await owner;
    expect(first.code).toBe(0);
    writeFileSync(mark, "");
    const r = await second;
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as { status: string; repositories: { status: string }[] };
    expect(job.repositories.map((x) => x.status)).toEqual(["COMPLETED"]);
    const list = await runCli(["list", "--json"], env);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(2);
  });

  it("replaces a killed daemon, and `cody stack stop` stops it", SLOW, async () => {
    const dir = freshDir();
    expect((await runCli(["list"], localEnv(dir), 120_000)).code).toBe(0);
    const first = daemonPid(dir);
    process.kill(first, "SIGKILL");
    for (let i = 0; i < 100 && alive(first); i++) await new Promise((r) => setTimeout(r, 50));
    const again = await runCli(["list"], localEnv(dir), 120_000);
    expect(again.stdout).toBe("no jobs yet\n");
    expect(again.code).toBe(0);
    const second = daemonPid(dir);
    expect(second).not.toBe(first);
    expect(alive(second)).toBe(true);
    const stop = await runCli(["stack", "stop"], localEnv(dir));
    expect(stop.stdout).toContain(`stopped (pid ${second})`);
    expect(alive(second)).toBe(false);
    expect((await runCli(["stack", "status"], localEnv(dir))).code).toBe(3);
  });
});

describe("a failure of the stack is one line and exit 1", () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

  it.for([
    { name: "port in use", text: () => `port ${port} is in use`, setup: (_d: string) => ({ CODY_STACK_DYNAMODB_PORT: String(port) }) },
    {
      name: "corrupt LevelDB",
      text: () => "is corrupt (Corruption:",
      setup: (d: string) => {
        mkdirSync(join(d, "dynamodb"));
        writeFileSync(join(d, "dynamodb", "CURRENT"), "MANIFEST-000001\n");
        writeFileSync(join(d, "dynamodb", "MANIFEST-000001"), "not a LevelDB manifest\n");
        return {};
      },
    },
    { name: "disk full", text: () => "disk full writing", setup: (d: string) => (symlinkSync("/dev/full", join(d, "stack.log")), {}) },
  ])("$name", SLOW, async ({ text, setup }) => {
    const dir = freshDir();
    const r = await runCli(["list"], localEnv(dir, setup(dir)), 120_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(text());
    expect(lines[0]).toMatch(/^cody: /);
  });
});

function readFileSafe(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
