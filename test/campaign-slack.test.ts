/**
 * The campaign from Slack buttons (issue 12's "done when"): a 20-repository preview started from
 * the modal, then Open PRs → (checks fail) → Retry failed → Merge green → Close PRs clicked on the
 * root message, every request signed as Slack signs it, the bot on Bolt's HTTP receiver, runners
 * in this process through the local launcher, the Slack and GitHub fakes, dynalite and s3rver.
 */
import { rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { HTTPReceiver } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../core/config/index.ts";
import { newLocalLauncher, type LocalLauncher } from "../core/launch/index.ts";
import { newSlackNotifierFromConfig } from "../bot/slack-notifier.ts";
import { newLocalDeferred, newBoltApp, type BotDeps } from "../bot/app.ts";
import { jobIdForView } from "../bot/jobs.ts";
import { newBotDeps } from "../bot/wiring.ts";
import { runRepo } from "../runner/run-repo.ts";
import { newRunnerDeps } from "../runner/wiring.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { signSlackRequest, startFakeSlack, type FakeSlack } from "./fakes/slack.ts";
import { sharedDir, type SharedDir } from "./support/shared-dir.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const SECRET = "campaign-signing-secret-0123456789";
const GH_TOKEN = "ghp_" + "s".repeat(36);
const REPOS = Array.from({ length: 20 }, (_, i) => `acme/web-${String(i).padStart(2, "0")}`);
const UNCHANGED = new Set(["acme/web-18", "acme/web-19"]);
const FLAKY = ["acme/web-04", "acme/web-09"];
const RED = ["acme/web-00", "acme/web-06", "acme/web-13", "acme/web-15"];

let stack: TestStack;
let remotes: TestRemotes;
let github: FakeGitHub;
let slack: FakeSlack;
let server: Server;
let base: string;
let launcher: LocalLauncher;
let local: ReturnType<typeof newLocalDeferred>;
let config: Config;
let shared: SharedDir;
let flags: string;

beforeAll(async () => {
  remotes = tempRemotes();
  // Not under /tmp: a sandboxed script sees its own empty /tmp (runner/sandbox-box.ts); see test/support/shared-dir.ts.
  shared = sharedDir("cody-campaign-slack-");
  flags = shared.path;
  for (const r of REPOS) remotes.make(r, { "src/app.js": UNCHANGED.has(r) ? "export const version = 9;\n" : "export const version = 1;\n" });
  for (const r of FLAKY) writeFileSync(join(flags, r.replace("/", "_")), "fail\n");
  slack = await startFakeSlack();
  github = await startFakeGitHub({ tokens: [GH_TOKEN], gitRoot: remotes.root });
  for (const r of REPOS) github.addRepo(r);
  stack = await startTestStack({
    GIT_BASE_URL: remotes.gitBaseUrl,
    ALLOWED_REPOSITORIES: "acme/*",
    // Script jobs from Slack need the person in ALLOWED_SCRIPT_USERS (bot/access.ts).
    ALLOWED_SCRIPT_USERS: "UDANA",
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN: GH_TOKEN,
    GITHUB_WRITE_INTERVAL_MS: "0",
    GITHUB_NOTIFY_INTERVAL_MS: "0",
  });
  config = loadConfig(stack.env);
  const runnerDeps = newRunnerDeps(config, stack.log, { notifier: newSlackNotifierFromConfig(config, stack.log, { replyWindowMs: 1 }) });
  launcher = newLocalLauncher({ concurrency: 4, maxAttempts: 1, log: stack.log, executor: (jobId, index, attempt, signal) => runRepo(runnerDeps, { jobId, index, attempt }, signal) });
  let deps: BotDeps;
  local = newLocalDeferred(() => deps);
  deps = newBotDeps(config, stack.log, { store: stack.store, artifacts: stack.artifacts, launcher, deferred: (task) => local.deferred(task) });
  const receiver = new HTTPReceiver({ signingSecret: SECRET });
  newBoltApp({ token: slack.token, signingSecret: SECRET, apiUrl: slack.apiUrl, receiver, retryConfig: { retries: 2, minTimeout: 1, maxTimeout: 5 } }, deps);
  server = await receiver.start({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await slack?.close();
  await github?.close();
  await stack?.stop();
  remotes?.cleanup();
  shared?.cleanup();
});

async function post(body: string): Promise<number> {
  const r = await fetch(`${base}/slack/events`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...signSlackRequest(SECRET, body) }, body });
  await r.text();
  return r.status;
}

function submission(viewId: string, script: string): string {
  const v = (value: string) => ({ value: { type: "plain_text_input", value } });
  return new URLSearchParams({
    payload: JSON.stringify({
      type: "view_submission", team: { id: "T1" }, user: { id: "UDANA", team_id: "T1" }, api_app_id: "A1", token: "legacy",
      view: {
        id: viewId, team_id: "T1", callback_id: "cody_job_modal", private_metadata: JSON.stringify({ channel: "C1", teamId: "T1" }),
        state: {
          values: {
            name: v("Bump to 2"),
            type: { value: { type: "radio_buttons", selected_option: { value: "script" } } },
            instructions: v(script),
            repositories: v(REPOS.join("\n")),
            base_branch: v(""),
            verify: v(""),
            options: { value: { type: "checkboxes", selected_options: [] } },
          },
        },
      },
    }),
  }).toString();
}

function click(actionId: string, jobId: string, user = "UDANA"): string {
  return new URLSearchParams({
    payload: JSON.stringify({
      type: "block_actions", team: { id: "T1" }, user: { id: user, team_id: "T1" }, api_app_id: "A1", token: "legacy", trigger_id: "1.2.3",
      channel: { id: "C1" }, container: { type: "message", channel_id: "C1", message_ts: "1.1" },
      actions: [{ type: "button", action_id: actionId, block_id: "campaign_actions", value: jobId, action_ts: "1" }],
    }),
  }).toString();
}

/** Clicks a button and waits for its deferred work and every runner it started. */
async function press(actionId: string, jobId: string, user = "UDANA"): Promise<void> {
  // Every campaign task ends by telling the person (ephemeral): Bolt's HTTP receiver acknowledges first.
  const told = slack.ok("chat.postEphemeral").length;
  expect(await post(click(actionId, jobId, user))).toBe(200);
  for (let i = 0; i < 1000 && slack.ok("chat.postEphemeral").length === told; i++) await new Promise((r) => setTimeout(r, 20));
  expect(String(slack.ok("chat.postEphemeral").at(-1)?.args.text)).not.toMatch(/failed|Nothing done/);
  for (let i = 0; i < 500; i++) {
    await local.settled();
    await launcher.whenIdle(jobId);
    const job = await stack.store.getJob(jobId);
    if (job?.finishedAt) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("job did not finish");
}

function green(repo: string, jobId: string) {
  github.setCheckRuns(repo, `cody/${jobId}`, [{ name: "build", status: "completed", conclusion: "success" }]);
  github.addReview(repo, github.pulls(repo)[0]!.number, "reviewer", "APPROVED");
}

/** The thread's summary replies of campaign actions, as their first section's text. */
function summaries(threadTs: string): string[] {
  return slack.replies("C1", threadTs).map((m) => String((m.blocks?.[0] as { text?: { text?: string } } | undefined)?.text?.text ?? "")).filter((t) => / by <@UDANA> · job /.test(t));
}

/** The job's rows by repository, as status/PR state pairs. */
async function accounted(jobId: string): Promise<Record<string, number>> {
  const rows = await stack.store.listRepos(jobId);
  expect(rows.map((r) => r.repositoryName).sort()).toEqual([...REPOS].sort());
  const out: Record<string, number> = {};
  for (const r of rows) {
    const key = `${r.status}/${r.pr?.state ?? (r.prNumber ? "pr" : "none")}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

describe("a 20-repository campaign from Slack buttons", () => {
  it("preview → Open PRs → checks fail → Retry failed → Merge green → Close PRs", async () => {
    const script = `test -e "${flags}/$(echo "$CODY_REPOSITORY" | tr / _)" && exit 3; perl -pi -e 's/version = 1/version = 2/' src/app.js`;
    expect(await post(submission("VCAMPAIGN", script))).toBe(200);
    await local.settled();
    const jobId = jobIdForView("VCAMPAIGN");
    await launcher.whenIdle(jobId);
    const job = (await stack.store.getJob(jobId))!;
    expect(job.counters).toMatchObject({ total: 20, completed: 16, noChanges: 2, failed: 2 });
    const threadTs = job.slack!.threadTs!;
    const root = () => slack.messages.find((m) => m.ts === threadTs && m.channel === job.slack!.channel)!;
    expect(JSON.stringify(root().blocks)).toContain("campaign_publish");

    // Someone else may not press the buttons.
    expect(await post(click("campaign_publish", jobId, "UMALLORY"))).toBe(200);
    await local.settled();
    await new Promise((r) => setTimeout(r, 100));
    expect(String(slack.ok("chat.postEphemeral").at(-1)?.args.text)).toContain("Only the job's creator (<@UDANA>) or an admin can publish");
    expect(REPOS.every((r) => github.pulls(r).length === 0)).toBe(true);

    await press("campaign_publish", jobId);
    expect(REPOS.filter((r) => github.pulls(r).length === 1)).toHaveLength(16);
    expect(await accounted(jobId)).toEqual({ "COMPLETED/pr": 16, "NO_CHANGES/none": 2, "FAILED/none": 2 });

    for (const r of REPOS.filter((x) => github.pulls(x).length === 1)) {
      if (RED.includes(r)) github.setCheckRuns(r, `cody/${jobId}`, [{ name: "lint", status: "completed", conclusion: "failure" }]);
      else green(r, jobId);
    }
    await press("campaign_refresh", jobId);
    expect((await stack.store.getJob(jobId))!.campaign).toMatchObject({ prs: 16, open: 16, passing: 12, failing: 4 });

    for (const r of FLAKY) rmSync(join(flags, r.replace("/", "_")));
    await press("campaign_retry", jobId);
    expect((await stack.store.getJob(jobId))!.counters).toMatchObject({ total: 20, completed: 18, noChanges: 2, failed: 0 });
    for (const r of FLAKY) green(r, jobId);

    await press("campaign_merge", jobId);
    expect(await accounted(jobId)).toEqual({ "COMPLETED/merged": 14, "COMPLETED/open": 4, "NO_CHANGES/none": 2 });

    await press("campaign_close", jobId);
    expect(await accounted(jobId)).toEqual({ "COMPLETED/merged": 14, "COMPLETED/closed": 4, "NO_CHANGES/none": 2 });
    for (const r of RED) expect(github.pulls(r)[0]!.state).toBe("closed");

    const said = summaries(threadTs);
    expect(said.map((t) => t.split(" by ")[0])).toEqual(["Publish", "Retry", "Merge", "Close"]);
    expect(said[2]).toContain("🟣 14 merged");
    expect(said[3]).toContain("⚫ 4 closed");
    const last = JSON.stringify(root().blocks);
    expect(last).toContain("Campaign: 14 merged · 0 open · 4 closed · done ✔");
    expect(last).not.toContain("campaign_merge");
    expect(slack.calls.filter((c) => c.error)).toEqual([]);
  }, 240_000);
});
