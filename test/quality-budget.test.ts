/**
 * The job's hard cost cap (issue 19) through the `cody` CLI (in-process runners), the Anthropic
 * fake, a git smart-HTTP fake that records which repositories were fetched, dynalite and
 * s3rver: one atomic spend counter, checked before every model request.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { message, startFakeAnthropic, text, toolUse, type FakeAnthropic, type FakeReply, type RecordedRequest } from "./fakes/anthropic.ts";
import { startFakeGitHttp, type FakeGitHttp } from "./fakes/git-http.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const API_KEY = "sk-ant-api03-" + "b".repeat(40);
const GH_TOKEN = "ghp_" + "b".repeat(36);
/** What one reply of the fake costs on claude-sonnet-5-5 with the fake's default usage (100 in, 50 out, 1000 cache read, 200 cache write). */
const REPLY_MICRO_USD = 2100;
let stack: TestStack;
let remotes: TestRemotes;
let git: FakeGitHttp;

beforeAll(async () => {
  remotes = tempRemotes();
  for (let i = 1; i <= 16; i++) remotes.make(`acme/b${i}`, { "src/app.js": "export const version = 1;\n" });
  git = await startFakeGitHttp(remotes.root, GH_TOKEN);
  stack = await startTestStack({ GIT_BASE_URL: git.url, ALLOWED_REPOSITORIES: "acme/*" });
});
afterAll(async () => {
  await git?.close();
  await stack?.stop();
  remotes?.cleanup();
});

/** Edits on the first turn, ends on the second; every reply after `delayMs` (so runners overlap). */
function claude(delayMs: number) {
  return async (req: RecordedRequest): Promise<FakeReply> => {
    await new Promise((r) => setTimeout(r, delayMs));
    const last = req.body.messages.at(-1).content as { type: string }[];
    if (last.some((b) => b.type === "tool_result")) return message([text("Bumped the version.")]);
    return message([toolUse("str_replace_based_edit_tool", { command: "str_replace", path: "src/app.js", old_str: "version = 1", new_str: "version = 2" })]);
  };
}

const env = (anthropic: FakeAnthropic) => ({ ...process.env, ...stack.env, GIT_BASE_URL: git.url, GITHUB_TOKEN: GH_TOKEN, LOG_LEVEL: "silent", LOCAL_RUNNER: "inprocess", ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: API_KEY });

type JobJson = { jobId: string; budgetUsd?: number; spendMicroUsd?: number; repositories: { repositoryName: string; status: string; error?: string }[] };

/** The repositories fetched over git since `from` (index into git.paths). */
function fetched(from: number): Set<string> {
  return new Set(git.paths.slice(from).map((p) => /^\/(acme\/b\d+)\.git\//.exec(p)?.[1]).filter((x): x is string => Boolean(x)));
}

describe("the job's cost cap", () => {
  it("below one request's price, over 3 repositories at concurrency 1: one model request, the others end with the budget reason without cloning", async () => {
    const anthropic = await startFakeAnthropic(claude(0));
    const from = git.paths.length;
    try {
      const repos = ["acme/b1", "acme/b2", "acme/b3"].flatMap((r) => ["--repo", r]);
      const r = await runCli(["run", ...repos, "--prompt", "Bump the version", "--budget-usd", "0.001", "--concurrency", "1", "--json"], env(anthropic));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(1);
      const job = JSON.parse(r.stdout) as JobJson;
      expect(job.budgetUsd).toBe(0.001);
      expect(anthropic.messageRequests()).toHaveLength(1);
      expect(anthropic.judgeRequests()).toHaveLength(0);
      expect(job.spendMicroUsd).toBe(REPLY_MICRO_USD);
      for (const row of job.repositories) {
        expect(row.status).toBe("FAILED");
        expect(row.error).toBe("job budget of $0.001 spent");
      }
      // Only the repository whose conversation was stopped was ever fetched.
      expect(fetched(from).size).toBe(1);

      const status = await runCli(["status", job.jobId], env(anthropic));
      expect(status.stdout).toContain("Spend $0.0021 of $0.001 (210 %) · cap reached");
    } finally {
      await anthropic.close();
    }
  });

  it("reached mid-job at concurrency 8: no request after the cap, spend exact and over the cap by at most the requests in flight", async () => {
    const anthropic = await startFakeAnthropic(claude(150));
    const from = git.paths.length;
    const capMicro = 3 * REPLY_MICRO_USD;
    try {
      const repos = Array.from({ length: 16 }, (_, i) => ["--repo", `acme/b${i + 1}`]).flat();
      const r = await runCli(["run", ...repos, "--prompt", "Bump the version", "--budget-usd", String(capMicro / 1e6), "--concurrency", "8", "--json"], env(anthropic), 90_000);
      expect(r.stderr).toBe("");
      const job = JSON.parse(r.stdout) as JobJson;
      const requests = anthropic.messageRequests().length;
      // Every response was counted once (atomic ADD), and nothing else was.
      expect(job.spendMicroUsd).toBe(requests * REPLY_MICRO_USD);
      // A request starts only while the counter is below the cap: at most the cap's worth of
      // counted responses, plus one request in flight per other runner (7).
      expect(requests).toBeLessThanOrEqual(Math.ceil(capMicro / REPLY_MICRO_USD) + 7);
      expect(job.spendMicroUsd!).toBeLessThanOrEqual(capMicro + 8 * REPLY_MICRO_USD);
      const failed = job.repositories.filter((x) => x.status !== "COMPLETED");
      expect(failed.length).toBeGreaterThanOrEqual(16 - Math.ceil(capMicro / REPLY_MICRO_USD / 2) - 7);
      for (const row of failed) expect(row).toMatchObject({ status: "FAILED", error: `job budget of $${capMicro / 1e6} spent` });
      // Repositories that started after the cap was reached were never fetched.
      expect(fetched(from).size).toBeLessThan(16);
    } finally {
      await anthropic.close();
    }
  }, 120_000);
});
