/**
 * Attacks on the bot over its real HTTP entry (signed requests, Bolt's HTTPReceiver, the fake
 * Slack Web API, dynalite/s3rver): commands from anyone, other workspaces, peeking at other
 * people's jobs and diffs, texts that break Slack's limits or carry mentions, and a bot started
 * without an allowlist. Each test was written against the code before the fix and failed there.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newArtifacts } from "../core/jobs/index.ts";
import { loadConfig, type Config } from "../core/config/index.ts";
import { newJobRows, type Job } from "../core/jobs/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import type { Store } from "../core/jobs/index.ts";
import { jobIdForView, type BotSettings } from "../bot/jobs.ts";
import { main as serverMain } from "../bot/server.ts";
import { lambdaHandlerFromConfig } from "../bot/lambda.ts";
import { botStartProblem, newBotDeps } from "../bot/wiring.ts";
import type { FakeSlack } from "./fakes/slack.ts";
import { startBotServer, type BotServer } from "./support/bot-server.ts";
import { button, command, eventually, submission } from "./support/slack-requests.ts";

const SECRET = "access-signing-secret-0123456789";
const log = newLogger({ level: "silent" });
let bot: BotServer;
let config: Config;
let store: Store;
let slack: FakeSlack;
let launched: Job[];
// Mutated per test: the listeners read the settings at each request.
let settings: BotSettings;
const local = { settled: () => bot.settled() };

beforeAll(async () => {
  bot = await startBotServer({ secret: SECRET, env: { ALLOWED_REPOSITORIES: "acme/*" } });
  ({ config, store, slack, launched, settings } = bot);
});

afterAll(async () => bot?.close());

beforeEach(() => {
  slack.calls.length = 0;
  launched.length = 0;
  Object.assign(settings, { allowedSlackUsers: [], allowedScriptUsers: [], allowedSlackTeams: [] });
});

const post = (body: string) => bot.post(body);
const errorsOf = (text: string) => (JSON.parse(text) as { errors?: Record<string, string> }).errors ?? {};
const ephemeralText = (text: string) => (JSON.parse(text) as { text: string }).text;

/** A job row as the bot would have made it, reporting in `channel`. */
async function jobIn(channel: string, createdBy: string, name = "Private migration"): Promise<Job> {
  const { job, repos } = newJobRows(`j-${Math.random().toString(36).slice(2, 12).padEnd(10, "0")}`, {
    name, type: "code-pattern-update", prompt: "p", repositories: ["acme/a"], createdBy, slack: { teamId: "T1", channel, threadTs: "1.1" },
  }, new Date());
  await store.createJob(job, [{ ...repos[0]!, diffKey: `diffs/${job.jobId}/acme/a.diff` }]);
  await newArtifacts(config).put(`diffs/${job.jobId}/acme/a.diff`, "-old\n+new\n", "text/x-diff");
  return job;
}

describe("commands from Slack need an explicit list of people", () => {
  it.for([
    { name: "a script job", fields: { type: "script", instructions: "cat /proc/1/environ", verify: "" }, field: "instructions" },
    { name: "a Claude job with a verify command", fields: { verify: "npm test" }, field: "verify" },
  ])("refuses $name inline while ALLOWED_SLACK_USERS is unset, and writes nothing", async (tc) => {
    const view = `VCMD-${tc.field}`;
    const r = await post(submission(view, { repositories: "acme/a", ...tc.fields }));
    expect(errorsOf(r.text)[tc.field]).toContain("ALLOWED_SCRIPT_USERS");
    await local.settled();
    expect(await store.getJob(jobIdForView(view))).toBeUndefined();
    expect(launched).toEqual([]);
  });

  it.for([
    { name: "ALLOWED_SCRIPT_USERS", set: { allowedScriptUsers: ["UDANA"] } },
    { name: "ALLOWED_SLACK_USERS", set: { allowedSlackUsers: ["UDANA"] } },
  ])("takes a script job from someone in $name", async (tc) => {
    Object.assign(settings, tc.set);
    const view = `VOKCMD-${tc.name}`;
    const r = await post(submission(view, { repositories: "acme/a", type: "script", instructions: "true" }));
    expect(r.text).toBe("");
    await local.settled();
    expect(await store.getJob(jobIdForView(view))).toMatchObject({ type: "script", verify: "npm test" });
  });

  it("a Claude job without a verify command still needs no list", async () => {
    const r = await post(submission("VPLAIN", { repositories: "acme/a", verify: "" }));
    expect(r.text).toBe("");
    await local.settled();
    expect(launched.map((j) => j.jobId)).toEqual([jobIdForView("VPLAIN")]);
  });

  it("ALLOWED_SCRIPT_USERS narrows ALLOWED_SLACK_USERS for commands", async () => {
    Object.assign(settings, { allowedSlackUsers: ["UDANA", "UEVE"], allowedScriptUsers: ["UDANA"] });
    const r = await post(submission("VEVE", { repositories: "acme/a", type: "script", instructions: "true", user: "UEVE", verify: "" }));
    expect(errorsOf(r.text).instructions).toContain("ALLOWED_SCRIPT_USERS");
  });
});

describe("requests from another workspace are refused", () => {
  it("refuses a command of another team (the bot token's team is T1)", async () => {
    const r = await post(command("", "UDANA", { team: "T2" }));
    expect(ephemeralText(r.text)).toContain("another Slack workspace");
    await new Promise((res) => setTimeout(res, 50));
    expect(slack.ok("views.open")).toEqual([]);
  });

  it("refuses a submission of another team", async () => {
    const r = await post(submission("VT2", { repositories: "acme/a", verify: "", team: "T2" }));
    expect(errorsOf(r.text).instructions).toContain("another Slack workspace");
    await local.settled();
    expect(await store.getJob(jobIdForView("VT2"))).toBeUndefined();
  });

  it("ignores a Cancel button clicked from another team", async () => {
    const job = await jobIn("C1", "UDANA");
    const r = await post(button("cancel_job", job.jobId, "UDANA", { team: "T2" }));
    expect(r.status).toBe(200);
    await local.settled();
    await new Promise((res) => setTimeout(res, 50));
    expect((await store.getJob(job.jobId))!.status).toBe("PENDING");
  });

  it("answers only ALLOWED_SLACK_TEAMS when it is set", async () => {
    Object.assign(settings, { allowedSlackTeams: ["T9"] });
    expect(ephemeralText((await post(command("help", "UDANA", { team: "T1" }))).text)).toContain("another Slack workspace");
    expect(ephemeralText((await post(command("help", "UDANA", { team: "T9" }))).text)).toContain("/cody list");
  });
});

describe("people see their own jobs and their channel's, nothing else", () => {
  it("/cody list and /cody status hide a job of a private channel from someone else", async () => {
    const secret = await jobIn("GPRIVATE", "UBOSS", "Secret reorg");
    const list = ephemeralText((await post(command("list", "UEVE", { channel: "C1" }))).text);
    expect(list).not.toContain(secret.jobId);
    const status = ephemeralText((await post(command(`status ${secret.jobId}`, "UEVE", { channel: "C1" }))).text);
    expect(status).not.toContain("Secret reorg");
    expect(status).toContain("that you can see");
    // Its creator, and people in its channel, do see it.
    expect(ephemeralText((await post(command("list", "UBOSS", { channel: "C1" }))).text)).toContain(secret.jobId);
    expect(ephemeralText((await post(command(`status ${secret.jobId}`, "UEVE", { channel: "GPRIVATE" }))).text)).toContain("Secret reorg");
  });

  it("View diff refuses people outside ALLOWED_SLACK_USERS", async () => {
    Object.assign(settings, { allowedSlackUsers: ["UDANA"] });
    const job = await jobIn("C1", "UDANA");
    await post(button("view_diff", `${job.jobId}|acme/a`, "UMALLORY"));
    await eventually(() => expect(slack.ok("chat.postEphemeral").length).toBeGreaterThan(0));
    expect(String(slack.ok("chat.postEphemeral")[0]!.args.text)).toContain("ALLOWED_SLACK_USERS");
    expect(slack.ok("views.open")).toEqual([]);
  });

  it("View diff refuses a job of another channel, and opens it in the job's channel", async () => {
    const job = await jobIn("GPRIVATE", "UBOSS");
    await post(button("view_diff", `${job.jobId}|acme/a`, "UEVE", { channel: "C1" }));
    await eventually(() => expect(slack.ok("chat.postEphemeral").length).toBeGreaterThan(0));
    expect(slack.ok("views.open")).toEqual([]);
    await post(button("view_diff", `${job.jobId}|acme/a`, "UEVE", { channel: "GPRIVATE" }));
    await eventually(() => expect(slack.ok("views.open")).toHaveLength(1));
    expect(JSON.stringify(slack.ok("views.open")[0]!.args.view)).toContain("+new");
  });
});

describe("texts Slack would refuse or render", () => {
  it("starts a job with a thread when the instructions are 600 '&' (3000+ characters once escaped)", async () => {
    Object.assign(settings, { allowedScriptUsers: ["UDANA"] });
    await post(submission("VAMP", { repositories: "acme/a", instructions: "&".repeat(600) }));
    await local.settled();
    const job = await store.getJob(jobIdForView("VAMP"));
    expect(job?.slack?.threadTs).toBeTruthy();
    expect(slack.calls.filter((c) => c.error)).toEqual([]);
    const root = slack.messages.find((m) => m.ts === job!.slack!.threadTs)!;
    expect(root.blocks?.length).toBeGreaterThan(1);
  });

  it("escapes mentions and links in the root's fallback text", async () => {
    Object.assign(settings, { allowedScriptUsers: ["UDANA"] });
    await post(submission("VMENTION", { repositories: "acme/a", name: "<!channel> <@U123> <https://evil.example|click>" }));
    await local.settled();
    const job = await store.getJob(jobIdForView("VMENTION"));
    const root = slack.messages.find((m) => m.ts === job!.slack!.threadTs)!;
    expect(root.text).toContain("&lt;!channel&gt;");
    expect(JSON.stringify(root)).not.toMatch(/<!channel>|<@U123>|<https:\/\/evil/);
  });

  it.for([
    { name: "an unknown word", text: "<!channel>" },
    { name: "a status of no job", text: "status <!channel>" },
    { name: "a cancel of no job", text: "cancel <!channel>" },
  ])("does not echo a mention back for $name", async (tc) => {
    const t = ephemeralText((await post(command(tc.text))).text);
    expect(t).toContain("&lt;!channel&gt;");
    expect(t).not.toContain("<!channel>");
  });

  it("falls back to a plain root when Slack refuses the blocks, so the job keeps its thread", async () => {
    slack.refuseBlocks("chat.postMessage", "invalid_blocks");
    await post(submission("VREFUSED", { repositories: "acme/a", verify: "" }));
    await local.settled();
    const job = await store.getJob(jobIdForView("VREFUSED"));
    expect(job?.slack?.threadTs).toBeTruthy();
    const root = slack.messages.find((m) => m.ts === job!.slack!.threadTs)!;
    expect(root.blocks).toBeUndefined();
    expect(root.text).toContain("Migrate fetchJson");
    expect(launched).toHaveLength(1);
  });
});

describe("the bot refuses to start without ALLOWED_REPOSITORIES", () => {
  const env = () => ({ ...bot.stack.env, SLACK_BOT_TOKEN: "xoxb-test-token", SLACK_SIGNING_SECRET: SECRET, LOG_LEVEL: "silent" as const });
  it("names the setting, in the server (exit 2), the wiring and the Lambda cold start", async () => {
    const c = loadConfig(env());
    expect(botStartProblem(c)).toContain("ALLOWED_REPOSITORIES");
    expect(await serverMain(env())).toBe(2);
    const parts = { store, artifacts: newArtifacts(c), launcher: { submit: async () => ({ batchJobId: "x" }), cancel: async () => undefined }, deferred: async () => undefined };
    expect(() => newBotDeps(c, log, parts)).toThrow(/ALLOWED_REPOSITORIES/);
    await expect(lambdaHandlerFromConfig(c, parts.launcher, "cody-bot", log)).rejects.toThrow(/ALLOWED_REPOSITORIES/);
  });
});
