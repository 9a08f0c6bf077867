/**
 * The scope judge (issue 19) through the real runner, the Anthropic SDK against the Anthropic
 * fake (agent and judge scripted separately), the GitHub fake for pull requests, real bare git
 * remotes, dynalite and s3rver: nothing unjudged is pushed.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/config/index.ts";
import { newJobId, newJobRows, validateJobRequest, type JobRequest, type RepoRow } from "../core/jobs/index.ts";
import { runRepo } from "../runner/run-repo.ts";
import { newRunnerDeps } from "../runner/wiring.ts";
import { message, startFakeAnthropic, text, toolUse, verdict, type FakeAnthropic, type FakeReply, type FakeStep, type RecordedRequest } from "./fakes/anthropic.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const API_KEY = "sk-ant-api03-" + "k".repeat(40);
const GH_TOKEN = "ghp_" + "j".repeat(36);
const EDITOR = "str_replace_based_edit_tool";
let stack: TestStack;
let remotes: TestRemotes;
let github: FakeGitHub;
let anthropic: FakeAnthropic | undefined;
let n = 0;

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*" });
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
});
afterEach(async () => {
  await anthropic?.close();
  anthropic = undefined;
});
afterAll(async () => {
  await github?.close();
  await stack?.stop();
  remotes?.cleanup();
});

/** A fresh repository `acme/judged-N` on the remote and on the GitHub fake. */
function freshRepo(): string {
  const name = `acme/judged-${++n}`;
  remotes.make(name, { "src/app.js": "export const version = 1;\n", "README.md": "# Demo\n" });
  github.addRepo(name, { defaultBranch: "main" });
  return name;
}

/**
 * The scripted Claude: bumps the version and (out of scope) touches the README; told of a veto,
 * it puts the README back; after tool results it ends with a summary.
 */
function claude(req: RecordedRequest): FakeReply {
  const blocks = req.body.messages.at(-1).content as { type: string; text?: string }[];
  if (blocks.some((b) => b.type === "tool_result")) return message([text("Bumped the version to 2.")]);
  if (blocks.some((b) => b.type === "text" && b.text?.includes("vetoed"))) {
    return message([toolUse(EDITOR, { command: "str_replace", path: "README.md", old_str: "# Demo (now v2!)", new_str: "# Demo" })]);
  }
  return message([
    toolUse(EDITOR, { command: "str_replace", path: "src/app.js", old_str: "version = 1", new_str: "version = 2" }),
    toolUse(EDITOR, { command: "str_replace", path: "README.md", old_str: "# Demo", new_str: "# Demo (now v2!)" }),
  ]);
}

async function run(repository: string, judge: FakeStep[] | undefined, request: Partial<JobRequest> = {}, env: NodeJS.ProcessEnv = {}): Promise<{ row: RepoRow; fake: FakeAnthropic }> {
  anthropic = await startFakeAnthropic(claude, judge ? { judge } : {});
  const config = loadConfig({ ...stack.env, ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: API_KEY, GITHUB_API_URL: github.url, GITHUB_TOKEN: GH_TOKEN });
  const deps = newRunnerDeps(config, stack.log, {}, env);
  const checked = validateJobRequest({ type: "code-pattern-update", prompt: "Bump the version constant to 2", repositories: [repository], createPullRequests: true, createdBy: "t", ...request } as JobRequest, "any");
  if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
  const jobId = newJobId();
  const { job, repos } = newJobRows(jobId, checked.request, new Date());
  await stack.store.createJob(job, repos);
  expect(await runRepo(deps, { jobId, index: 0 }, new AbortController().signal)).toBe(0);
  return { row: (await stack.store.listRepos(jobId))[0]!, fake: anthropic };
}

function codyBranches(repo: string): string[] {
  const bare = join(remotes.root, `${repo}.git`);
  if (!existsSync(bare)) return [];
  return execFileSync("git", ["for-each-ref", "--format=%(refname)", "refs/heads/cody/"], { cwd: bare, encoding: "utf8" }).split("\n").filter(Boolean);
}

const JUDGE_USAGE = { input_tokens: 3000, output_tokens: 40, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

describe("the scope judge", () => {
  it("approves: one forced verdict request carrying the instructions and the diff; the reason lands in the PR body and its tokens in the usage", async () => {
    const repo = freshRepo();
    const { row, fake } = await run(repo, [verdict("approve", "Only the version constant changed, as asked.", { usage: JUDGE_USAGE })], {}, { CLAUDE_JUDGE_MODEL: "claude-haiku-4-5" });
    expect(row.status).toBe("COMPLETED");
    const judged = fake.judgeRequests();
    expect(judged).toHaveLength(1);
    const body = judged[0]!.body;
    expect(body.model).toBe("claude-haiku-4-5");
    expect(body.tools).toHaveLength(1);
    expect(body.tools[0].name).toBe("verdict");
    expect(body.tools[0].input_schema.properties.decision.enum).toEqual(["approve", "veto"]);
    expect(body.tool_choice).toEqual({ type: "tool", name: "verdict" });
    const prompt = body.messages[0].content as string;
    expect(prompt).toContain("Bump the version constant to 2");
    expect(prompt).toContain("+export const version = 2;");
    expect(prompt).toContain("no verify command");
    expect(row.scopeCheck).toEqual({ decision: "approve", reason: "Only the version constant changed, as asked.", requests: 1 });
    // Agent: 2 requests of 100 input tokens each (the fake's default usage); judge: 3000.
    expect(row.usage!.inputTokens).toBe(200 + 3000);
    expect(row.usage!.outputTokens).toBe(100 + 40);
    const pr = github.pulls(repo)[0]!;
    expect(pr.body).toContain("### Scope check");
    expect(pr.body).toContain("Only the version constant changed, as asked.");
    expect(codyBranches(repo)).toHaveLength(1);
  });

  it("vetoes, Claude gets the reason once and corrects the change, the correction is judged again and approved", async () => {
    const repo = freshRepo();
    const { row, fake } = await run(repo, [verdict("veto", "The README edit was not asked for."), verdict("approve", "Now only the version changes.")]);
    expect(row.status).toBe("COMPLETED");
    const judged = fake.judgeRequests();
    expect(judged).toHaveLength(2);
    expect(judged[0]!.body.messages[0].content).toContain("README.md");
    expect(judged[1]!.body.messages[0].content).not.toContain("README.md");
    const vetoTurns = fake.messageRequests().filter((r) => JSON.stringify(r.body.messages.at(-1)).includes("The README edit was not asked for."));
    expect(vetoTurns).toHaveLength(1);
    expect(row.scopeCheck).toEqual({ decision: "approve", reason: "Now only the version changes.", requests: 2 });
    expect(row.diffStats).toEqual({ files: 1, additions: 1, deletions: 1 });
    expect(github.pulls(repo)[0]!.body).toContain("Now only the version changes.");
  });

  it("vetoes twice: FAILED with the judge's reason, two verdict requests, nothing pushed and no PR", async () => {
    const repo = freshRepo();
    const { row, fake } = await run(repo, [verdict("veto", "The README edit was not asked for."), verdict("veto", "Still touches more than asked.")]);
    expect(row.status).toBe("FAILED");
    expect(row.error).toBe("judge vetoed: Still touches more than asked.");
    expect(fake.judgeRequests()).toHaveLength(2);
    expect(row.scopeCheck?.decision).toBe("veto");
    expect(codyBranches(repo)).toEqual([]);
    expect(github.pulls(repo)).toEqual([]);
  });

  it.for([
    { name: "a decision outside approve|veto", reply: () => message([toolUse("verdict", { decision: "maybe", reason: "unsure" })]), want: /no valid verdict \(decision must be "approve" or "veto", got "maybe"\)/ },
    { name: "no verdict call at all", reply: () => message([text("Looks fine to me.")]), want: /no valid verdict \(no verdict tool call in the answer\)/ },
    { name: "a verdict without a reason", reply: () => message([toolUse("verdict", { decision: "approve" })]), want: /no valid verdict \(the verdict has no reason\)/ },
  ])("fails the repository on $name and pushes nothing unjudged", async (tc) => {
    const repo = freshRepo();
    const { row, fake } = await run(repo, [tc.reply()]);
    expect(row.status).toBe("FAILED");
    expect(row.error).toMatch(tc.want);
    expect(fake.judgeRequests()).toHaveLength(1);
    expect(codyBranches(repo)).toEqual([]);
    expect(github.pulls(repo)).toEqual([]);
  });

  it("is skipped with judge: false (--no-judge), and runs for a script job with judge: true (--judge)", async () => {
    const off = await run(freshRepo(), [verdict("veto", "should never be asked")], { judge: false });
    expect(off.row.status).toBe("COMPLETED");
    expect(off.fake.judgeRequests()).toHaveLength(0);
    expect(off.row.scopeCheck).toBeUndefined();

    await anthropic?.close();
    const repo = freshRepo();
    const script = await run(repo, [verdict("veto", "The script rewrote the README too.")], { type: "script", script: "sed -i 's/1/2/' src/app.js && echo x >> README.md", judge: true });
    expect(script.row.status).toBe("FAILED");
    expect(script.row.error).toBe("judge vetoed: The script rewrote the README too.");
    expect(script.fake.messageRequests()).toHaveLength(0);
    expect(script.fake.judgeRequests()[0]!.body.messages[0].content).toContain("sed -i");
    expect(codyBranches(repo)).toEqual([]);
  });
});
