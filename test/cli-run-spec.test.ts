/**
 * `cody run -f change.yaml` and `cody run … --plan` as a person runs them: a real process, the
 * embedded store, the GitHub fake serving code and repository search over the test remotes.
 */
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newDynamoClient } from "../core/jobs/index.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const GH_TOKEN = "ghp_" + "S".repeat(36);
let stack: TestStack;
let remotes: TestRemotes;
let github: FakeGitHub;
let dir: string;

beforeAll(async () => {
  remotes = tempRemotes();
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
  for (const [name, body] of [["one", "fetchJson(a)\n"], ["two", "fetchJson(b)\n"], ["three", "getJson(c)\n"]] as const) {
    remotes.make(`acme/${name}`, { "src/api.ts": body });
    github.addRepo(`acme/${name}`, { topics: name === "three" ? ["payments"] : [] });
  }
  remotes.make("evil/x", { "src/api.ts": "fetchJson(x)\n" });
  github.addRepo("evil/x");
  dir = mkdtempSync(join(tmpdir(), "cody-spec-"));
});
afterAll(async () => {
  await stack?.stop();
  await github?.close();
  remotes?.cleanup();
});

function cody(args: string[]) {
  return runCli(args, { ...process.env, ...stack.env, GITHUB_API_URL: github.url, GITHUB_TOKEN: GH_TOKEN, LOG_LEVEL: "silent", LOCAL_RUNNER: "inprocess", ANTHROPIC_API_KEY: "", ANTHROPIC_BASE_URL: "", CLAUDE_API_KEY: "" });
}

function specFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function itemCount(table: string): Promise<number> {
  const r = await newDynamoClient(stack.config).send(new ScanCommand({ TableName: table, Select: "COUNT" }));
  return r.Count ?? 0;
}

async function nothingWritten(): Promise<void> {
  expect(await itemCount(stack.config.jobsTable)).toBe(0);
  expect(await itemCount(stack.config.reposTable)).toBe(0);
}

const SPEC = `# yaml-language-server: $schema=../schema/change-spec.schema.json
name: Rename fetchJson
on:
  - acme/three
  - search: fetchJson
change:
  script: sed -i s/fetchJson/getJson/ src/api.ts
verify: grep -q getJson src/api.ts
pullRequest:
  open: false
  draft: true
  base: main
  labels: [cleanup]
  reviewers: [dana]
  teamReviewers: [platform]
  assignees: [lee]
  minIntervalSeconds: 5
`;

const FLAGS = [
  "--name", "Rename fetchJson", "--repo", "acme/three", "--repo", "search: fetchJson",
  "--script", "sed -i s/fetchJson/getJson/ src/api.ts", "--verify", "grep -q getJson src/api.ts",
  "--draft", "--base", "main", "--label", "cleanup", "--reviewer", "dana", "--team-reviewer", "platform", "--assignee", "lee", "--pr-interval", "5",
];

describe("cody run --plan", () => {
  it("prints per selector what matches after the allowlist, and runs nothing", async () => {
    const r = await cody(["run", "--repo", "search: fetchJson", "--repo", "topic: payments owner:acme", "--script", "true", "--plan"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("3 repositories match:");
    expect(r.stdout).toContain("search: fetchJson → 2 of 3 found (1 outside ALLOWED_REPOSITORIES)\n    acme/one\n    acme/two\n");
    expect(r.stdout).toContain("topic: payments owner:acme → 1\n    acme/three\n");
    expect(r.stdout).not.toContain("evil/x\n");
    await nothingWritten();
  });

  it("a spec file plans the same job as the equivalent flags", async () => {
    const fromSpec = await cody(["run", "-f", specFile("same.yaml", SPEC), "--plan", "--json"]);
    const fromFlags = await cody(["run", ...FLAGS, "--plan", "--json"]);
    expect(fromSpec.stderr).toBe("");
    expect(fromSpec.code).toBe(0);
    const spec = JSON.parse(fromSpec.stdout) as { job: Record<string, unknown> };
    expect(spec.job).toMatchObject({ name: "Rename fetchJson", type: "script", repositories: ["acme/three", "acme/one", "acme/two"], baseBranch: "main", verify: "grep -q getJson src/api.ts" });
    expect(spec).toEqual(JSON.parse(fromFlags.stdout));
    await nothingWritten();
  });
});

describe("cody run -f", () => {
  it.for([
    { name: "an unknown field and a wrong type", text: "on: [acme/one]\nchange:\n  script: ls\npullRequest:\n  labels: cleanup\n  colour: red\n", want: ["bad.yaml:5: pullRequest.labels: expected array, got string", "bad.yaml:6: pullRequest.colour: unknown field"] },
    { name: "both prompt and script", text: "on: [acme/one]\nchange:\n  prompt: do it\n  script: ls\n", want: ["bad.yaml:2: change: give exactly one of change.prompt (Claude) or change.script (shell)"] },
    { name: "a missing on:", text: "name: x\nchange: {script: ls}\n", want: ["bad.yaml:1: on: required (array)"] },
    { name: "broken YAML", text: "on: [acme/one\nchange: {script: ls}\n", want: ["bad.yaml:2: (yaml):"] },
    { name: "a selector that matches nothing", text: "on:\n  - search: nosuchthing\nchange: {script: ls}\n", want: ["repositories: search: nosuchthing matches no repository you may change (0 found)"] },
    { name: "a repository outside the allowlist", text: "on: [evil/x]\nchange: {script: ls}\n", want: ["evil/x is not in the allowed repositories (acme/*)"] },
  ])("refuses $name with exit 2, naming field and line, and writes nothing", async (tc) => {
    const r = await cody(["run", "-f", specFile("bad.yaml", tc.text)]);
    for (const w of tc.want) expect(r.stderr).toContain(w.replace("bad.yaml", join(dir, "bad.yaml")));
    expect(r.code).toBe(2);
    await nothingWritten();
  });

  it("refuses change flags beside -f", async () => {
    const r = await cody(["run", "-f", specFile("mixed.yaml", SPEC), "--script", "ls"]);
    expect(r.stderr).toContain("with -f, put --script in the spec file instead");
    expect(r.code).toBe(2);
    await nothingWritten();
  });

  it("runs the spec: every selected repository changed, PRs with the spec's title, body template and commit message", async () => {
    const spec = `name: Rename fetchJson
on:
  - search: fetchJson
change:
  script: sed -i s/fetchJson/getJson/ src/api.ts
pullRequest:
  title: "chore({{repository}}): {{name}}"
  body: "Automated rename.\\n\\n{{details}}"
  commitMessage: "refactor: use getJson\\n\\nfetchJson is deprecated."
`;
    const r = await cody(["run", "-f", specFile("run.yaml", spec), "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as { jobId: string; repositories: Array<{ repositoryName: string; status: string; prUrl?: string }> };
    expect(job.repositories.map((x) => [x.repositoryName, x.status, Boolean(x.prUrl)])).toEqual([["acme/one", "COMPLETED", true], ["acme/two", "COMPLETED", true]]);
    const pr = github.pulls("acme/one")[0]!;
    expect(pr.title).toBe("chore(acme/one): Rename fetchJson");
    expect(pr.body).toContain("Automated rename.\n\n### Script");
    const message = execFileSync("git", ["log", "-1", "--format=%B", `cody/${job.jobId}`], { cwd: join(remotes.root, "acme", "one.git"), encoding: "utf8" });
    expect(message.trim()).toBe(`refactor: use getJson\n\nfetchJson is deprecated.\n\nCody Batch job ${job.jobId}`);
  });
});
