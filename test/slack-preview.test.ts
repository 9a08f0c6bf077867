/**
 * The job modal's "Preview targets" step over HTTP: Bolt's HTTPReceiver, the fake Slack Web API
 * (views.update), the GitHub fake's code and repository search behind the real Octokit client.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HTTPReceiver } from "@slack/bolt";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { newArtifacts } from "../core/jobs/index.ts";
import { loadConfig, type Config } from "../core/config/index.ts";
import { newGitHub } from "../core/github/index.ts";
import { newGitHubTargets } from "../core/github/index.ts";
import type { Job } from "../core/jobs/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { newStore, type Store } from "../core/jobs/index.ts";
import { newSlackClient, newSlackNotifierFromConfig } from "../bot/slack-notifier.ts";
import { EmbeddedStack } from "../environment/index.ts";
import { newBoltApp, newLocalDeferred, newTell, type BotDeps } from "../bot/app.ts";
import { jobIdForView } from "../bot/jobs.ts";
import { newBotDeps } from "../bot/wiring.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";
import { signSlackRequest, startFakeSlack, type FakeSlack } from "./fakes/slack.ts";

const SECRET = "test-signing-secret-preview-000000";
const GH_TOKEN = "ghp_" + "P".repeat(36);
const log = newLogger({ level: "silent" });
let stack: EmbeddedStack;
let config: Config;
let store: Store;
let slack: FakeSlack;
let github: FakeGitHub;
let server: Server;
let base: string;
let launched: Job[];
let local: ReturnType<typeof newLocalDeferred>;

beforeAll(async () => {
  stack = await EmbeddedStack.start({ inMemory: true, env: {} });
  slack = await startFakeSlack();
  github = await startFakeGitHub({ tokens: [GH_TOKEN] });
  for (const n of ["billing", "web", "shop"]) github.addRepo(`acme/${n}`, { files: new Map([["src/api.ts", n === "shop" ? "getJson()" : "fetchJson()"]]) });
  github.addRepo("evil/x", { files: new Map([["a.ts", "fetchJson()"]]) });
  config = loadConfig({ ...stack.env, SLACK_BOT_TOKEN: slack.token, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, ALLOWED_REPOSITORIES: "acme/*", ALLOWED_SCRIPT_USERS: "UDANA", ALLOWED_SLACK_TEAMS: "T1", GITHUB_TOKEN: GH_TOKEN, GITHUB_API_URL: github.url });
  store = newStore(config);
  const client = newSlackClient(config, { retryConfig: { retries: 3, minTimeout: 1, maxTimeout: 5 } });
  const artifacts = newArtifacts(config);
  launched = [];
  let deps: BotDeps;
  local = newLocalDeferred(() => deps);
  const launcher = { async submit(job: Job) { launched.push(job); return { batchJobId: `local-${job.jobId}` }; }, async cancel() {} };
  // The production wiring (views.update over the Slack client), with a search pace tests need not wait for.
  const wired = newBotDeps(config, log, { store, artifacts, launcher, deferred: (task) => local.deferred(task) });
  deps = {
    ...wired,
    notifier: newSlackNotifierFromConfig(config, log, { client, artifacts, replyWindowMs: 1 }),
    tell: newTell(client, log),
    targets: newGitHubTargets(newGitHub(config, { retryAfterBaseValue: 1, searchMinTimeMs: 0 }).octokit),
  };
  const receiver = new HTTPReceiver({ signingSecret: SECRET });
  newBoltApp({ token: slack.token, signingSecret: SECRET, apiUrl: slack.apiUrl, receiver, retryConfig: { retries: 3, minTimeout: 1, maxTimeout: 5 } }, deps);
  server = await receiver.start({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await slack?.close();
  await github?.close();
  await stack?.stop();
});

beforeEach(() => {
  slack.calls.length = 0;
  launched.length = 0;
});

async function post(payload: unknown): Promise<{ status: number; text: string }> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const r = await fetch(`${base}/slack/events`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...signSlackRequest(SECRET, body) }, body });
  return { status: r.status, text: await r.text() };
}

function view(id: string, fields: { repositories?: string; spec?: string }, metadata: string = JSON.stringify({ channel: "C1", teamId: "T1" })) {
  const v = (value: string) => ({ value: { type: "plain_text_input", value } });
  return {
    id,
    hash: `${id}.hash`,
    team_id: "T1",
    callback_id: "cody_job_modal",
    private_metadata: metadata,
    state: {
      values: {
        name: v("Rename fetchJson"),
        type: { value: { type: "radio_buttons", selected_option: { value: "script" } } },
        instructions: v("sed -i s/fetchJson/getJson/ src/api.ts"),
        repositories: v(fields.repositories ?? ""),
        base_branch: v(""),
        verify: v(""),
        options: { value: { type: "checkboxes", selected_options: [{ value: "pr" }] } },
        spec: v(fields.spec ?? ""),
      },
    },
  };
}

const user = { id: "UDANA", team_id: "T1" };
const submit = (v: ReturnType<typeof view>) => post({ type: "view_submission", team: { id: "T1" }, user, api_app_id: "A1", token: "legacy", view: v });
const previewClick = (v: ReturnType<typeof view>) =>
  post({ type: "block_actions", team: { id: "T1" }, user, api_app_id: "A1", token: "legacy", trigger_id: "1.2.3", container: { type: "view", view_id: v.id }, view: v, actions: [{ type: "button", action_id: "cody_preview_targets", block_id: "targets_actions", value: "preview", action_ts: "1" }] });

/** Presses Preview targets and returns the view the bot sent with views.update. */
async function preview(v: ReturnType<typeof view>): Promise<{ blocks: Array<{ block_id?: string; text?: { text: string } }>; private_metadata: string }> {
  expect((await previewClick(v)).status).toBe(200);
  await local.settled();
  const update = slack.ok("views.update").at(-1);
  expect(update?.args).toMatchObject({ view_id: v.id, hash: v.hash });
  return update!.args.view as never;
}

const previewText = (pv: Awaited<ReturnType<typeof preview>>) => pv.blocks.find((b) => b.block_id === "targets_preview")?.text?.text ?? "";

describe("Preview targets in the job modal", () => {
  it("refuses a search: selector that was never previewed, inline, and writes nothing", async () => {
    const r = await submit(view("VNOPREV", { repositories: "search: fetchJson" }));
    expect(JSON.parse(r.text)).toEqual({ response_action: "errors", errors: { repositories: "Press Preview targets first: search:, repos: and topic: selectors are resolved before the job starts." } });
    await local.settled();
    expect(await store.getJob(jobIdForView("VNOPREV"))).toBeUndefined();
  });

  it("previews the resolved list with views.update, keeps the values, and the submission then starts the job", async () => {
    const v = view("VPREV", { repositories: "search: fetchJson\nacme/shop" });
    const pv = await preview(v);
    expect(previewText(pv)).toContain("*3 repositories* will be changed:");
    expect(previewText(pv)).toContain("`search: fetchJson` → *2* _(1 outside ALLOWED_REPOSITORIES)_: `acme/billing`, `acme/web`");
    expect(JSON.stringify(pv.blocks)).toContain('"initial_value":"search: fetchJson\\nacme/shop"');
    expect(launched).toEqual([]);
    const r = await submit(view("VPREV", { repositories: "search: fetchJson\nacme/shop" }, pv.private_metadata));
    expect(r.text).toBe("");
    await local.settled();
    expect(await store.getJob(jobIdForView("VPREV"))).toMatchObject({ repositories: ["acme/billing", "acme/web", "acme/shop"], type: "script" });
    expect(launched).toHaveLength(1);
  });

  it("asks for a new preview when the repositories changed since", async () => {
    const pv = await preview(view("VSTALE", { repositories: "search: fetchJson" }));
    const r = await submit(view("VSTALE", { repositories: "search: getJson" }, pv.private_metadata));
    expect(JSON.parse(r.text).errors.repositories).toContain("The repositories changed since the preview");
  });

  it("shows a selector that matches nothing in the preview, and the submission gets it as the field's error naming the count", async () => {
    const v = view("VNONE", { repositories: "search: nosuchthing" });
    const pv = await preview(v);
    expect(previewText(pv)).toBe(":warning: search: nosuchthing matches no repository you may change (0 found)");
    const r = await submit(view("VNONE", { repositories: "search: nosuchthing" }, pv.private_metadata));
    expect(JSON.parse(r.text)).toEqual({ response_action: "errors", errors: { repositories: "search: nosuchthing matches no repository you may change (0 found)" } });
    await local.settled();
    expect(await store.getJob(jobIdForView("VNONE"))).toBeUndefined();
  });

  it("takes a pasted change spec: its errors name line and field; a good one previews and starts", async () => {
    const bad = await submit(view("VSPECBAD", { spec: "on: [acme/billing]\nchange:\n  scrpt: ls\n" }));
    expect(JSON.parse(bad.text).errors.spec).toContain("line 2: change: give exactly one of change.prompt (Claude) or change.script (shell)");
    const spec = "name: From a spec\non:\n  - search: fetchJson\nchange:\n  script: sed -i s/fetchJson/getJson/ src/api.ts\npullRequest:\n  labels: [cleanup]\n";
    const pv = await preview(view("VSPEC", { spec }));
    expect(previewText(pv)).toContain("*2 repositories*");
    const r = await submit(view("VSPEC", { spec }, pv.private_metadata));
    expect(r.text).toBe("");
    await local.settled();
    expect(await store.getJob(jobIdForView("VSPEC"))).toMatchObject({ name: "From a spec", repositories: ["acme/billing", "acme/web"], pullRequest: { labels: ["cleanup"] } });
  });
});
