/**
 * The foundation end to end: real git remotes, dynalite and s3rver over HTTP, the local
 * launcher starting one runner process per repository (runner/main.ts, as an AWS Batch array
 * child would run).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/config/index.ts";
import { newJobId, validateJobRequest, type JobRequest, type RepoRow } from "../core/jobs/index.ts";
import { newLocalLauncher, processExecutor } from "../core/launch/index.ts";
import { newConsoleNotifier } from "../core/jobs/index.ts";
import { submitJob } from "../core/launch/index.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const ROOT = resolve(import.meta.dirname, "..");
const RUNNER = [process.execPath, "--import", import.meta.resolve("tsx"), join(ROOT, "runner", "main.ts")];

let stack: TestStack;
let remotes: TestRemotes;
let logDir: string;

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, HEARTBEAT_SECONDS: "5" });
  logDir = mkdtempSync(join(tmpdir(), "cody-logs-"));
});

afterAll(async () => {
  await stack?.stop();
  remotes?.cleanup();
  rmSync(logDir, { recursive: true, force: true });
});

async function runToEnd(request: JobRequest, concurrency: number) {
  const checked = validateJobRequest(request, "any");
  if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
  const launcher = newLocalLauncher({
    concurrency,
    maxAttempts: 1,
    log: stack.log,
    executor: processExecutor({ command: RUNNER, env: { ...process.env, ...stack.env, LOG_LEVEL: "info" }, logDir }),
  });
  const jobId = newJobId();
  await submitJob({ store: stack.store, launcher, notifier: newConsoleNotifier(stack.log), log: stack.log }, { jobId, request: checked.request });
  await launcher.whenIdle(jobId);
  const job = await stack.store.getJob(jobId);
  const rows = await stack.store.listRepos(jobId);
  return { jobId, job: job!, rows };
}

function countsOf(rows: RepoRow[]) {
  const by = (s: string) => rows.filter((r) => r.status === s).length;
  return { completed: by("COMPLETED"), noChanges: by("NO_CHANGES"), failed: by("FAILED"), cancelled: by("CANCELLED") };
}

describe("a script job through the local launcher", () => {
  it("gives COMPLETED 3 / NO_CHANGES 1 / FAILED 1 with counters equal to the rows and diffs equal to the pushed branches", async () => {
    const files = (n: string) => ({ "README.md": `# ${n}\n`, "src/app.js": `export const name = "${n}";\nexport const version = 1;\n` });
    for (const n of ["alpha", "beta", "gamma"]) remotes.make(`acme/${n}`, files(n));
    remotes.make("acme/docs", { "README.md": "# docs\n" });
    remotes.make("acme/broken", { ...files("broken"), "FAIL": "yes\n" });
    const script = [
      "test -f FAIL && { echo 'this repository refuses the change' >&2; exit 3; }",
      "test -f src/app.js || exit 0",
      "perl -pi -e 's/version = 1/version = 2/' src/app.js",
      "printf 'changed by cody\\n' > CHANGELOG.md",
    ].join("\n");
    const { jobId, job, rows } = await runToEnd(
      {
        type: "script",
        name: "Bump version",
        script,
        repositories: ["acme/alpha", "acme/beta", "acme/gamma", "acme/docs", "acme/broken"],
        createPullRequests: true,
        createdBy: "test",
      },
      3,
    );

    expect(countsOf(rows)).toEqual({ completed: 3, noChanges: 1, failed: 1, cancelled: 0 });
    expect(job.status).toBe("FAILED");
    expect(job.finishedAt).toBeDefined();
    expect(job.counters).toEqual({ total: 5, ...countsOf(rows) });
    const broken = rows.find((r) => r.repositoryName === "acme/broken")!;
    expect(broken.error).toBe("script exited with code 3: this repository refuses the change");
    expect(rows.find((r) => r.repositoryName === "acme/docs")!.status).toBe("NO_CHANGES");

    for (const row of rows.filter((r) => r.status === "COMPLETED")) {
      expect(row.diffStats).toEqual({ files: 2, additions: 2, deletions: 1 });
      expect(row.branch).toBe(`cody/${jobId}`);
      const stored = await stack.artifacts.get(row.diffKey!);
      const bare = join(remotes.root, `${row.repositoryName}.git`);
      const pushed = execFileSync("git", ["diff", `main..cody/${jobId}`], { cwd: bare, encoding: "utf8" });
      expect(stored).toBe(pushed);
      expect(stored).toContain("+export const version = 2;");
      const log = execFileSync("git", ["log", "--format=%s", `main..cody/${jobId}`], { cwd: bare, encoding: "utf8" });
      expect(log.trim()).toBe("Bump version");
    }
    // No branch where nothing changed or the script failed.
    for (const name of ["acme/docs", "acme/broken"]) {
      const branches = execFileSync("git", ["branch", "--list", `cody/${jobId}`], { cwd: join(remotes.root, `${name}.git`), encoding: "utf8" });
      expect(branches.trim()).toBe("");
    }
  });

  it("finalizes a 20-repository job exactly once at concurrency 8", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `fleet/svc-${i}`);
    for (const n of names) remotes.make(n, { "VERSION": "1\n" });
    const { jobId, job, rows } = await runToEnd(
      { type: "script", script: "echo 2 > VERSION", repositories: names, createdBy: "test" },
      8,
    );
    expect(countsOf(rows)).toEqual({ completed: 20, noChanges: 0, failed: 0, cancelled: 0 });
    expect(job.status).toBe("COMPLETED");
    expect(job.counters).toEqual({ total: 20, completed: 20, noChanges: 0, failed: 0, cancelled: 0 });
    const finishes = readdirSync(join(logDir, jobId))
      .map((f) => readFileSync(join(logDir, jobId, f), "utf8"))
      .flatMap((text) => text.split("\n"))
      .filter((line) => line.includes('"msg":"job finished"'));
    expect(finishes).toHaveLength(1);
  });
});

describe("the runner's environment", () => {
  it("keeps credentials away from the script and out of .git/config", async () => {
    remotes.make("acme/secrets", { "a.txt": "a\n" });
    const token = "ghp_" + "A".repeat(36);
    const prev = { ...stack.env };
    stack.env.GITHUB_TOKEN = token;
    stack.env.ANTHROPIC_API_KEY = "sk-ant-" + "B".repeat(30);
    try {
      const { rows } = await runToEnd(
        { type: "script", script: "env > env.txt; cat .git/config > gitconfig.txt", repositories: ["acme/secrets"], createdBy: "test" },
        1,
      );
      const diff = await stack.artifacts.get(rows[0]!.diffKey!);
      expect(diff).toContain("+CODY_REPOSITORY=acme/secrets");
      expect(diff).not.toContain(token);
      expect(diff).not.toMatch(/GITHUB_TOKEN|ANTHROPIC_API_KEY|AWS_SECRET_ACCESS_KEY|extraheader/i);
    } finally {
      stack.env = prev;
    }
  });
});

it("config names the variable that is wrong", () => {
  expect(() => loadConfig({ LAUNCHER: "ecs" })).toThrow(/LAUNCHER/);
  expect(() => loadConfig({ PRESIGN_TTL_SECONDS: "-4" })).toThrow(/PRESIGN_TTL_SECONDS/);
  expect(() => loadConfig({ ALLOWED_REPOSITORIES: "https://x/y" })).toThrow(/ALLOWED_REPOSITORIES/);
  expect(() => loadConfig({ DYNAMODB_ENDPOINT: "localhost:8000" })).toThrow(/DYNAMODB_ENDPOINT/);
});
