/**
 * Every repository's step timings: on its row (`timings`), in its log line, and shown by
 * `cody status <job> --timings`, slowest repository first.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RepoRow } from "../core/jobs/index.ts";
import { timingsTable } from "../scripts/cli-timings.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let remotes: TestRemotes;

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
  remotes.make("acme/fast", { "a.txt": "1\n" });
  remotes.make("acme/slow", { "a.txt": "1\n" });
});
afterAll(async () => {
  await stack?.stop();
  remotes?.cleanup();
});

const cody = (args: string[]) => runCli(args, { ...process.env, ...stack.env, LOG_LEVEL: "silent", LOCAL_RUNNER: "inprocess" });

describe("step timings", () => {
  it("are stored on each row and shown by cody status --timings, the slow repository first with its slow step named", async () => {
    const run = await cody(["run", "--repo", "acme/fast,acme/slow", "--script", 'test "$CODY_REPOSITORY" = acme/slow && sleep 1.2; echo 2 > a.txt', "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout) as { jobId: string; repositories: RepoRow[] };
    for (const r of job.repositories) {
      const t = r.timings!;
      for (const step of ["start", "clone", "change", "commit", "diff", "cleanup", "total"]) expect(t[step], `${r.repositoryName} ${step}`).toBeGreaterThanOrEqual(0);
      expect(t.total).toBeGreaterThanOrEqual(t.clone! + t.change! + t.commit! + t.diff!);
    }
    const slow = job.repositories.find((r) => r.repositoryName === "acme/slow")!;
    expect(slow.timings!.change).toBeGreaterThanOrEqual(1200);

    const status = await cody(["status", job.jobId, "--timings"]);
    expect(status.code).toBe(0);
    const lines = status.stdout.split("\n");
    expect(lines[0]).toMatch(/^repository\s+status\s+total\s+start\s+clone\s+change\s+commit\s+diff\s+cleanup$/);
    expect(lines[1]).toMatch(/^acme\/slow\s+COMPLETED\s+\d+/);
    expect(lines[2]).toMatch(/^acme\/fast\s+COMPLETED\s+\d+/);
    expect(status.stdout).toMatch(/slowest: acme\/slow, \d+ ms; most of it in change \(\d+ ms, \d+ %\)/);
  });
});

describe("timingsTable", () => {
  const row = (name: string, timings?: Record<string, number>): RepoRow => ({ jobId: "j-x", repositoryName: name, index: 0, status: "COMPLETED", attempt: 1, expiresAt: 0, ...(timings ? { timings } : {}) });

  it("sorts by total, prints a median line, and counts rows without timings", () => {
    const text = timingsTable([row("o/a", { clone: 10, change: 5, total: 20 }), row("o/b", { clone: 300, change: 5, push: 40, total: 400 }), row("o/c")]);
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/total\s+clone\s+change\s+push$/);
    expect(lines[1]).toMatch(/^o\/b\s+COMPLETED\s+400\s+300\s+5\s+40$/);
    expect(lines[2]).toMatch(/^o\/a\s+COMPLETED\s+20\s+10\s+5\s+—$/);
    expect(lines[3]).toMatch(/^median\s+210\s+155\s+5\s+40$/);
    expect(text).toContain("slowest: o/b, 400 ms; most of it in clone (300 ms, 75 %)");
    expect(text).toContain("1 repositories have no timings yet");
  });

  it("says so when nothing was timed", () => {
    expect(timingsTable([row("o/a")])).toMatch(/^no step timings recorded/);
  });
});
