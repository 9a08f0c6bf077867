/**
 * The first hour through the `cody` CLI (issue 21): honest outcomes and messages that say what to
 * do next. A real process, the embedded stack over HTTP, exact messages and exit codes.
 */
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
