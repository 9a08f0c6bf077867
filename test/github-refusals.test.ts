/**
 * GitHub refuses the pull request (a head/base validation error, a legal block …): the
 * repository ends FAILED with GitHub's own words, in its row, its Slack reply and `cody status`,
 * never as "internal error". The runner as wired for AWS (newRunnerDeps) against the GitHub
 * and Slack fakes, real bare remotes, dynalite and s3rver.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/config/index.ts";
import { newJobId, newJobRows, validateJobRequest } from "../core/jobs/index.ts";
import { newSlackNotifierFromConfig } from "../bot/slack-notifier.ts";
import { runRepo } from "../runner/run-repo.ts";
import { newRunnerDeps } from "../runner/wiring.ts";
import { statusText } from "../bot/messages/ephemeral.ts";
import { GITHUB_REFUSALS, startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { startFakeSlack, type FakeSlack } from "./fakes/slack.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const GH_TOKEN = "ghp_" + "r".repeat(36);
let stack: TestStack;
let remotes: TestRemotes;
let github: FakeGitHub;
let slack: FakeSlack;

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl });
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
  slack = await startFakeSlack();
});
afterAll(async () => {
  await github?.close();
  await slack?.close();
  await stack?.stop();
  remotes?.cleanup();
});

describe("GitHub's refusal is the repository's reason", () => {
  it.for([
    { name: "422 head invalid", repo: "acme/r422", answer: GITHUB_REFUSALS.headInvalid, want: "GitHub refused to create the pull request (HTTP 422: Validation Failed: head invalid)" },
    { name: "451 legal block", repo: "acme/r451", answer: GITHUB_REFUSALS.unavailableForLegalReasons, want: "GitHub refused to create the pull request (HTTP 451: Repository access blocked)" },
  ])("$name: row, Slack reply and cody status", async (tc) => {
    remotes.make(tc.repo, { "a.txt": "1\n" });
    github.addRepo(tc.repo, { defaultBranch: "main" });
    github.inject({ method: "POST", path: `/repos/${tc.repo}/pulls`, ...tc.answer });
    const env = { ...stack.env, GIT_BASE_URL: remotes.gitBaseUrl, GITHUB_API_URL: github.url, GITHUB_TOKEN: GH_TOKEN, SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl };
    const config = loadConfig(env);
    const notifier = newSlackNotifierFromConfig(config, stack.log, { store: stack.store, artifacts: stack.artifacts, replyWindowMs: 1 });
    const deps = newRunnerDeps(config, stack.log, { notifier });
    const checked = validateJobRequest({ type: "script", script: "echo 2 > a.txt", repositories: [tc.repo], createPullRequests: true, createdBy: "UDANA", slack: { teamId: "T1", channel: "C1" } }, "any");
    if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
    const jobId = newJobId();
    const { job, repos } = newJobRows(jobId, checked.request, new Date());
    await stack.store.createJob(job, repos);
    const thread = await deps.notifier.jobCreated(job);
    await stack.store.setJobFields(jobId, { slack: thread! });
    expect(await runRepo(deps, { jobId, index: 0 }, new AbortController().signal)).toBe(0);

    const row = (await stack.store.listRepos(jobId))[0]!;
    expect(row).toMatchObject({ status: "FAILED", error: tc.want });
    const replies = slack.replies(thread!.channel, thread!.threadTs!);
    expect(JSON.stringify(replies.map((m) => m.blocks))).toContain(tc.want);
    expect(statusText((await stack.store.getJob(jobId))!, [row], new Date())).toContain(tc.want);
    // The table cuts reasons to one line (issue 21); the repository's own status prints it whole.
    const status = await runCli(["status", jobId, row.repositoryName], { ...process.env, ...env, LOG_LEVEL: "silent" });
    expect(status.stdout).toContain(tc.want);
    expect(status.stdout + JSON.stringify(replies)).not.toContain("internal error");
    expect(status.stdout + JSON.stringify(replies) + row.error).not.toContain(GH_TOKEN);
  });
});
