/**
 * The first hour through the `cody` CLI (issue 21): honest outcomes and messages that say what to
 * do next. A real process, the embedded stack over HTTP, exact messages and exit codes.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let remotes: TestRemotes;

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
  remotes.make("acme/one", { "a.txt": "1\n" });
});
afterAll(async () => {
  await stack?.stop();
  remotes?.cleanup();
});

/** No GitHub settings at all, whatever the caller's environment holds. */
const NO_GITHUB = { GITHUB_TOKEN: "", GITHUB_API_URL: "", GITHUB_APP_ID: undefined, GITHUB_APP_PRIVATE_KEY: undefined };

function cody(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...stack.env, LOG_LEVEL: "silent", LOCAL_RUNNER: "inprocess", ...NO_GITHUB, ...extraEnv };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return runCli(args, env);
}

const NO_GITHUB_FOR_PRS =
  "cody: opening pull requests needs GitHub access: set GITHUB_TOKEN (or a GitHub App); without it, run a preview (no --pr) and publish it once GitHub is set\n";

describe("pull requests without GitHub access are refused up front", () => {
  it("cody run --pr: exit 2, one line, no job", async () => {
    const r = await cody(["run", "--repo", "acme/one", "--script", "echo 2 > a.txt", "--pr"]);
    expect(r.stderr).toBe(NO_GITHUB_FOR_PRS);
    expect(r.code).toBe(2);
    expect((await stack.store.listJobs(10)).length).toBe(0);
  });

  it("cody publish of a finished preview: exit 2, one line, nothing relaunched", async () => {
    const run = await cody(["run", "--repo", "acme/one", "--script", "echo 2 > a.txt", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const jobId = (JSON.parse(run.stdout) as { jobId: string }).jobId;
    const r = await cody(["publish", jobId]);
    expect(r.stderr).toBe(NO_GITHUB_FOR_PRS);
    expect(r.code).toBe(2);
    const job = await stack.store.getJob(jobId);
    expect(job?.actions ?? []).toEqual([]);
    expect(job?.createPullRequests).toBe(false);
  }, 60_000);
});

describe("typos get a suggestion and only the command's own usage, exit 2", () => {
  it("a mistyped command", async () => {
    const r = await cody(["stauts", "j-x"]);
    expect(r.stderr).toBe('cody: unknown command "stauts" (did you mean "status"?)\nusage:\n  cody status JOB_ID [REPO] [--wide] [--json] [--timings]   a job\'s table (REPO: that repository in full; --timings: step times, slowest first)\n');
    expect(r.code).toBe(2);
  });

  it("a command nothing is close to", async () => {
    const r = await cody(["frobnicate"]);
    expect(r.stderr).toBe('cody: unknown command "frobnicate"; see cody --help\n');
    expect(r.code).toBe(2);
  });

  it("a mistyped option: no parser advice, run's usage only", async () => {
    const r = await cody(["run", "--repo", "acme/one", "--scirpt", "true"]);
    const [first, second, ...rest] = r.stderr.split("\n");
    expect(first).toBe("cody: unknown option --scirpt (did you mean --script?)");
    expect(second).toBe("usage:");
    expect(rest.join("\n")).toContain("cody run --repo OWNER/NAME");
    expect(r.stderr).not.toContain("cody status");
    expect(r.stderr).not.toContain("place it at the end");
    expect(r.code).toBe(2);
  });

  it("an unknown job id points at cody list", async () => {
    for (const args of [["status", "j-doesnotexi"], ["cancel", "j-doesnotexi"], ["merge", "j-doesnotexi"]]) {
      // merge refuses without GitHub credentials before it looks for the job (issue 25): give it a token.
      const r = await cody(args, args[0] === "merge" ? { GITHUB_TOKEN: "ghp_unused" } : {});
      expect(r.stderr).toBe("cody: no job j-doesnotexi; see cody list for the recent jobs\n");
      expect(r.code).toBe(2);
    }
  });

  it("--help names every command", async () => {
    const r = await cody(["--help"]);
    for (const c of ["run", "status", "list", "cancel", "logs", "runner", "watchdog", "demo", "dev", "playground", "stack", "refresh", "publish", "retry", "update", "merge", "close", "help"]) {
      expect(r.stdout).toMatch(new RegExp(`^  cody ${c}\\b`, "m"));
    }
    expect(r.code).toBe(0);
  });
});

describe("cody dev without its settings", () => {
  it("lists every missing setting at once, once, exit 2", async () => {
    const r = await cody(["dev"], { SLACK_BOT_TOKEN: "", SLACK_SIGNING_SECRET: "", SLACK_APP_TOKEN: "", ALLOWED_REPOSITORIES: "" });
    expect(r.stderr).toBe(
      "cody dev: 3 settings are missing:\n" +
        "  - SLACK_BOT_TOKEN is not set: create the app from bot/manifest.yml and set its bot token (see README)\n" +
        "  - SLACK_SIGNING_SECRET is empty: requests could not be verified (the app's Basic Information page has it)\n" +
        "  - ALLOWED_REPOSITORIES is not set: the bot would let anyone change any repository (set e.g. ALLOWED_REPOSITORIES='acme/*')\n" +
        "To try the bot without a Slack workspace: cody playground\n",
    );
    expect(r.stdout).toBe("");
    expect(r.code).toBe(2);
  });
});

describe("the final table and one repository in full", () => {
  it("fits 100 columns with a long multi-line reason; status <job> <repo> has all of it, /repo-relative", async () => {
    remotes.make("acme/long-reason-repository-name", { "a.txt": "1\n" });
    const verify = `for i in 1 2 3 4 5 6 7 8 9; do echo "error $i in $PWD/src/module-$i.ts: expected something rather long here" >&2; done; exit 3`;
    const run = await cody(["run", "--repo", "acme/long-reason-repository-name", "--repo", "acme/one", "--script", "echo 2 > a.txt", "--verify", verify]);
    expect(run.code).toBe(1);
    const table = run.stdout.split("\n");
    for (const line of table) expect([...line].length, line).toBeLessThanOrEqual(100);
    const jobId = /Job (j-[a-z0-9]+) FAILED in \d+ s: /.exec(run.stdout)?.[1];
    expect(jobId).toBeDefined();
    expect(run.stdout).toContain(`cut to fit: cody status ${jobId} <repository> for a full reason, --wide for every column`);
    expect(run.stdout).not.toMatch(/cody-j-[a-z0-9]+-\d+-a\d+/);

    const detail = await cody(["status", jobId!, "acme/long-reason-repository-name"]);
    expect(detail.code).toBe(1);
    expect(detail.stdout).toContain("acme/long-reason-repository-name in job");
    expect(detail.stdout).toContain("  error 9 in /repo/src/module-9.ts: expected something rather long here");
    expect(detail.stdout).not.toMatch(/cody-j-[a-z0-9]+-\d+-a\d+/);

    const wide = await cody(["status", jobId!, "--wide"]);
    expect(wide.stdout.split("\n").some((l) => l.length > 100)).toBe(true);
    expect(wide.stdout).toContain("DIFF");

    const missing = await cody(["status", jobId!, "acme/nope"]);
    expect(missing.stderr).toBe(`cody: acme/nope is not in job ${jobId} (2 repositories: acme/long-reason-repository-name, acme/one)\n`);
    expect(missing.code).toBe(2);
  }, 60_000);
});

describe("--plan and GitHub that cannot be reached", () => {
  it("--plan says which named repositories cannot be reached, and where it looked (exit 1)", async () => {
    const r = await cody(["run", "--repo", "acme/one", "--repo", "acme/ghost", "--script", "true", "--plan"]);
    expect(r.stdout).toContain(`1 cannot be reached (no GITHUB_TOKEN set: private repositories need one):\n  acme/ghost: not found at ${remotes.gitBaseUrl}/acme/ghost.git\n`);
    expect(r.stdout).not.toContain("acme/one: ");
    expect(r.code).toBe(1);
  });

  it("a selector with GitHub down: one line naming the URL, no stack trace (exit 1)", async () => {
    const r = await cody(["run", "--repo", "search: fetchJson", "--script", "true", "--plan"], { GITHUB_API_URL: "http://127.0.0.1:9", GITHUB_TOKEN: "t" });
    expect(r.stderr).toMatch(/^cody: cannot reach GitHub at http:\/\/127\.0\.0\.1:9\S* \([^)]+\) to expand the selectors; check GITHUB_API_URL, GITHUB_TOKEN and the network\n$/);
    expect(r.code).toBe(1);
  }, 60_000);

  it("a clone that fails names the URL it tried", async () => {
    const r = await cody(["run", "--repo", "acme/ghost", "--script", "true", "--json"]);
    expect(r.code).toBe(1);
    const job = JSON.parse(r.stdout) as { repositories: Array<{ error?: string }> };
    expect(job.repositories[0]!.error).toBe(`repository acme/ghost not found at ${remotes.gitBaseUrl}/acme/ghost.git`);
  }, 60_000);
});

describe("make run", () => {
  it("ends with three next steps", async () => {
    const r = await cody(["demo"], { REPOS: "acme/one", SCRIPT: "echo 3 > a.txt" });
    expect(r.code, r.stderr).toBe(0);
    const jobId = /Job (j-[a-z0-9]+) COMPLETED/.exec(r.stdout)?.[1];
    expect(r.stdout.endsWith(
      "\nNext:\n" +
        `  1. one repository in full (reason, diff, logs): ./cody status ${jobId} acme/one\n` +
        '  2. your own repositories: make run REPOS="owner/name" SCRIPT="…" (GITHUB_TOKEN=… PR=1 opens pull requests)\n' +
        "  3. the Slack side and the campaign, no workspace needed: make playground\n",
    )).toBe(true);
  }, 60_000);
});

describe("Ctrl-C", () => {
  it("prints nothing between cancelling and the table, even with runner workers interrupted too", async () => {
    remotes.make("acme/slow1", { "a.txt": "1\n" });
    remotes.make("acme/slow2", { "a.txt": "1\n" });
    const env: NodeJS.ProcessEnv = { ...process.env, ...stack.env, LOG_LEVEL: "info", ...NO_GITHUB };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    // Its own process group, as a terminal's foreground job: SIGINT reaches the runner workers as well.
    const child = spawn(process.execPath, [resolve(import.meta.dirname, "..", "scripts", "cody.mjs"), "run", "--repo", "acme/slow1,acme/slow2", "--script", "sleep 8"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = new Promise<number | null>((done) => child.on("close", done));
    const until = Date.now() + 30_000;
    while (!(await stack.store.listJobs(50)).some((j) => j.name === "sleep 8" && j.status === "RUNNING") && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(-child.pid!, "SIGINT");
    expect(await code).toBe(1);
    const after = stderr.slice(stderr.indexOf("cody: cancelling job"));
    expect(after).toMatch(/^cody: cancelling job j-[a-z0-9]+ \(Ctrl-C again to leave it running\)\n$/);
    expect(stdout).toMatch(/Job j-[a-z0-9]+ CANCELLED in \d+ s: sleep 8/);
  }, 60_000);
});

describe("cody logs", () => {
  it("prints a repository's runner log as human lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cody-logs-"));
    try {
      const run = await cody(["run", "--repo", "acme/one", "--script", "echo 4 > a.txt", "--json"], { LOCAL_RUNNER: "process", CODY_DIR: dir, LOG_LEVEL: "info" });
      expect(run.code, run.stderr).toBe(0);
      const jobId = (JSON.parse(run.stdout) as { jobId: string }).jobId;
      const r = await cody(["logs", jobId, "acme/one"], { CODY_DIR: dir });
      expect(r.code, r.stderr).toBe(0);
      const [head, ...lines] = r.stdout.trimEnd().split("\n");
      expect(head).toMatch(new RegExp(`^── acme/one \\(COMPLETED\\) · \\S*${jobId}/0\\.log$`));
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(/^ {3}\d\d:\d\d:\d\d (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/);
      expect(r.stdout).not.toContain('{"level"');
      const none = await cody(["logs", "j-doesnotexi"], { CODY_DIR: dir });
      expect(none.stderr).toBe("cody: no job j-doesnotexi; see cody list for the recent jobs\n");
      expect(none.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
