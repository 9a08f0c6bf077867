/**
 * The `cody` CLI as a person runs it: a real process, the store over HTTP, exit codes.
 */
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newDynamoClient } from "../core/jobs/index.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let remotes: TestRemotes;

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
  remotes.make("acme/one", { "a.txt": "1\n" });
  remotes.make("acme/two", { "a.txt": "1\n" });
});
afterAll(async () => {
  await stack?.stop();
  remotes?.cleanup();
});

function cody(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runCli(args, { ...process.env, ...stack.env, LOG_LEVEL: "silent", LOCAL_RUNNER: "inprocess", ...extraEnv });
}

async function itemCount(table: string): Promise<number> {
  const client = newDynamoClient(stack.config);
  const r = await client.send(new ScanCommand({ TableName: table, Select: "COUNT" }));
  return r.Count ?? 0;
}

describe("bad input exits 2, names the problem and writes nothing", () => {
  it.for([
    { name: "a repository outside ALLOWED_REPOSITORIES", args: ["run", "--repo", "evil/x", "--script", "true"], text: "evil/x is not in the allowed repositories (acme/*)" },
    { name: "an empty repository list", args: ["run", "--script", "true"], text: "name at least one repository" },
    { name: "1001 repositories", args: ["run", "--repo", Array.from({ length: 1001 }, (_, i) => `acme/r${i}`).join(","), "--script", "true"], text: "1001 repositories; a job takes at most 1000" },
    { name: "an unknown option", args: ["run", "--repo", "acme/one", "--script", "true", "--frobnicate"], text: "--frobnicate" },
    { name: "both --prompt and --script", args: ["run", "--repo", "acme/one", "--script", "true", "--prompt", "x"], text: "not both" },
    { name: "a Claude job without Claude configured", args: ["run", "--repo", "acme/one", "--prompt", "do it"], text: "ANTHROPIC_API_KEY" },
    { name: "an unknown command", args: ["frob"], text: 'unknown command "frob"' },
  ])("$name", async ({ args, text }) => {
    const r = await cody(args, { ANTHROPIC_API_KEY: "", ANTHROPIC_BASE_URL: "", CLAUDE_API_KEY: "" });
    expect(r.stderr).toContain(text);
    expect(r.code).toBe(2);
    expect(await itemCount(stack.config.jobsTable)).toBe(0);
    expect(await itemCount(stack.config.reposTable)).toBe(0);
  });
});

describe("cody run without repositories or a change shows the error and run's usage", () => {
  it.for([
    { name: "no --repo", args: ["run", "--script", "true"], text: "name at least one repository" },
    { name: "an empty --repo", args: ["run", "--repo", " , ", "--prompt", "x"], text: "name at least one repository" },
    { name: "no --prompt or --script", args: ["run", "--repo", "acme/one"], text: "give --prompt TEXT (Claude) or --script CMD" },
  ])("$name", async ({ args, text }) => {
    const r = await cody(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cody: ${text}`);
    expect(r.stderr).toContain("usage:\n  cody run --repo OWNER/NAME");
    expect(r.stderr).toContain("[--assignee U] [--pr-interval SECONDS] [--json]");
    expect(r.stderr).not.toContain("cody status JOB_ID");
    expect(await itemCount(stack.config.jobsTable)).toBe(0);
  });
});

describe("a job through the CLI", () => {
  it("prints the job as JSON, and status/list read it back; exit 1 when a repository failed", async () => {
    const run = await cody(["run", "--repo", "acme/one", "--repo", "acme/two", "--script", 'test "$CODY_REPOSITORY" = acme/two && exit 4; echo 2 > a.txt', "--json"]);
    expect(run.code).toBe(1);
    const job = JSON.parse(run.stdout) as { jobId: string; status: string; repositories: { repositoryName: string; status: string; error?: string }[] };
    expect(job.jobId).toMatch(/^j-[a-z0-9]{10}$/);
    expect(job.status).toBe("FAILED");
    expect(job.repositories.map((r) => [r.repositoryName, r.status])).toEqual([
      ["acme/one", "COMPLETED"],
      ["acme/two", "FAILED"],
    ]);
    expect(job.repositories[1]!.error).toBe("script exited with code 4");

    const status = await cody(["status", job.jobId, "--json"]);
    expect(status.code).toBe(1);
    expect((JSON.parse(status.stdout) as { jobId: string }).jobId).toBe(job.jobId);

    const table = await cody(["status", job.jobId]);
    expect(table.stdout).toMatch(/acme\/one\s+COMPLETED\s+1 file \+1 −1/);
    expect(table.stdout).toContain("script exited with code 4");

    const list = await cody(["list", "--json"]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { jobId: string }[]).map((j) => j.jobId)).toContain(job.jobId);
  });

  it("exits 0 when every repository is COMPLETED or NO_CHANGES", async () => {
    const r = await cody(["run", "--repo", "acme/one,acme/two", "--script", "true"]);
    expect(r.stderr).toContain("➖ acme/one — no change needed");
    expect(r.code).toBe(0);
  });

  it("runs one repository as an array child would (cody runner --job --index)", async () => {
    const r = await cody(["runner", "--job", "j-doesnotexi", "--index", "0"]);
    expect(r.code).toBe(1);
  });
});
