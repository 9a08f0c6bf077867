/**
 * Issue 18 through the bundled CLI, as people use it (`cody run`, the embedded stack's daemon,
 * the local pool of runner workers): a job's script that lists and reads CODY_DIR finds nothing
 * of the stack's, and Ctrl-C of `cody run` during a `sleep` script leaves no process of the job.
 * CODY_DIR is under /run (not /tmp), so a sandboxed script sees it and only its permissions
 * keep it out. Switching users needs root (CI runs as root): when not root these tests FAIL.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopStack } from "../environment/stack-daemon.ts";
import { runCli } from "./support/cli.ts";
import { tempRemotes, type TestRemotes } from "./support/stack.ts";

const CLI = join(import.meta.dirname, "..", "scripts", "cody.mjs");
let remotes: TestRemotes;
let dir: string;

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("this test needs root to switch users (CI runs as root); it fails rather than passing silently");
}

beforeAll(() => {
  remotes = tempRemotes();
  remotes.make("acme/one", { "a.txt": "1\n" });
  dir = mkdtempSync("/run/cody-seal-cli-");
  rmSync(dir, { recursive: true });
});
afterAll(async () => {
  await stopStack(dir);
  rmSync(dir, { recursive: true, force: true });
  remotes?.cleanup();
});

function localEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CODY_DIR: dir, GIT_BASE_URL: remotes.gitBaseUrl, LOG_LEVEL: "silent", CODY_STACK_IDLE_SECONDS: "300" };
  for (const k of ["DYNAMODB_ENDPOINT", "S3_ENDPOINT", "ALLOWED_REPOSITORIES", "LAUNCHER", "SLACK_BOT_TOKEN", "GITHUB_TOKEN", "LOCAL_RUNNER", "SANDBOX_UIDS"]) delete env[k];
  return env;
}

/** Pids whose command line is exactly `cmd`. */
function processesRunning(cmd: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ").trim() === cmd;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const SLOW = { timeout: 240_000 };

describe("the sealed sandbox through `cody run` (issue 18; needs root: fails, does not skip, when not root)", () => {
  it("as root: a script that lists CODY_DIR and reads stack.json, the stack's data and the logs gets nothing", SLOW, async () => {
    requireRoot();
    const script = `{ ls -la ${dir}; cat ${dir}/stack.json; ls -R ${dir}/logs ${dir}/s3 ${dir}/dynamodb; cat ${dir}/stack.log; } > listing.txt 2>&1; true`;
    const r = await runCli(["run", "--repo", "acme/one", "--script", script], localEnv(), 180_000);
    expect(r.code, r.stderr).toBe(0);
    const state = JSON.parse(readFileSync(join(dir, "stack.json"), "utf8")) as { env: { CODY_STACK_SECRET_ACCESS_KEY: string; CODY_STACK_ACCESS_KEY_ID: string } };
    const jobs = readdirSync(join(dir, "diffs"));
    expect(jobs).toHaveLength(1);
    const diff = readFileSync(join(dir, "diffs", jobs[0]!, "acme", "one.diff"), "utf8");
    expect(diff).toContain("+++ b/listing.txt");
    expect(diff).toContain("Permission denied");
    for (const leak of [state.env.CODY_STACK_SECRET_ACCESS_KEY, state.env.CODY_STACK_ACCESS_KEY_ID, "DYNAMODB_ENDPOINT", "starting the embedded stack", "stack.lock", "diffs"]) expect(diff).not.toContain(leak);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "stack.json")).mode & 0o777).toBe(0o600);
  });

  it("as root: Ctrl-C of `cody run` during a `sleep` script leaves no process of the job once the CLI has exited", SLOW, async () => {
    requireRoot();
    const seconds = 3000 + (process.pid % 900);
    // Detached: its own process group, which a terminal's Ctrl-C signals as a whole (the CLI and its workers).
    const cli = spawn(process.execPath, [CLI, "run", "--repo", "acme/one", "--script", `sleep ${seconds}`], { env: localEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stderr = "";
    cli.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    cli.stdout.resume();
    const exited = new Promise<number | null>((resolve) => cli.on("close", (code) => resolve(code)));
    for (let i = 0; i < 1200 && processesRunning(`sleep ${seconds}`).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(processesRunning(`sleep ${seconds}`), stderr).toHaveLength(1);
    process.kill(-cli.pid!, "SIGINT");
    const code = await exited;
    expect(stderr).toContain("cancelling job");
    expect(code).not.toBe(0);
    expect(processesRunning(`sleep ${seconds}`)).toEqual([]);
  });
});
