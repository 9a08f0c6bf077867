/**
 * The bot end to end over HTTP: requests signed exactly as Slack signs them go to Bolt's
 * HTTPReceiver; the bot talks to the fake Slack Web API and to dynalite/s3rver.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Job } from "../core/jobs/index.ts";
import type { Store } from "../core/jobs/index.ts";
import { jobIdForView } from "../bot/jobs.ts";
import { deriveLinkKey, signLink } from "../bot/links.ts";
import { signSlackRequest, type FakeSlack } from "./fakes/slack.ts";
import { startBotServer, type BotServer } from "./support/bot-server.ts";
import { button, command, eventually, submission } from "./support/slack-requests.ts";

const SECRET = "test-signing-secret-0123456789";
let bot: BotServer;
let store: Store;
let slack: FakeSlack;
let base: string;
let launched: Job[];
const local = { settled: () => bot.settled() };

const ACME = Array.from({ length: 1000 }, (_, i) => `acme/svc-${i}`);

beforeAll(async () => {
  bot = await startBotServer({
    secret: SECRET,
    env: { ALLOWED_REPOSITORIES: "acme/*,tools/cli", BOT_PUBLIC_URL: "http://bot.test" },
    settings: { allowedScriptUsers: ["UDANA"] },
    expandOwner: async (owner) => (owner === "acme" ? ACME : []),
  });
  ({ store, slack, base, launched } = bot);
});

afterAll(async () => bot?.close());

beforeEach(() => {
  slack.calls.length = 0;
  launched.length = 0;
});

const post = (body: string, headers?: Record<string, string>) => bot.post(body, headers);

describe("slack bot", () => {
  it("opens the modal with the trigger id and acknowledges well under 3 s", async () => {
    const r = await post(command(""));
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    await eventually(() => expect(slack.ok("views.open")).toHaveLength(1));
    const open = slack.ok("views.open");
    expect(open[0]!.args.trigger_id).toBe("1337.42.abcd");
    expect(JSON.stringify(open[0]!.args.view)).toContain("cody_job_modal");
  });

  it.for([
    { name: "unsigned", headers: {} as Record<string, string> },
    { name: "wrongly signed", headers: signSlackRequest("not-the-secret-000000", command("")) },
    { name: "6 minutes old", headers: signSlackRequest(SECRET, command(""), Math.floor(Date.now() / 1000) - 360) },
  ])("rejects a $name request with 401 and no side effect", async (tc) => {
    const r = await post(command(""), tc.headers);
    expect(r.status).toBe(401);
    await new Promise((res) => setTimeout(res, 50));
    expect(slack.calls.filter((c) => c.method !== "auth.test")).toEqual([]);
  });

  it("answers a repository outside the allowlist with an error on that field", async () => {
    const r = await post(submission("VBAD1", { repositories: "acme/billing\nevil/secret" }));
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe("errors");
    expect(body.errors.repositories).toContain("evil/secret is not in the allowed repositories (acme/*, tools/cli)");
    await local.settled();
    expect(await store.getJob(jobIdForView("VBAD1"))).toBeUndefined();
    expect(launched).toEqual([]);
  });

  it("creates one job, one root message and one launch, even when the view is submitted twice", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await post(submission("VOK1", { repositories: "acme/billing\ntools/cli" }));
      expect(r.status).toBe(200);
      expect(r.text).toBe("");
      await local.settled();
    }
    const jobId = jobIdForView("VOK1");
    const job = await store.getJob(jobId);
    expect(job).toMatchObject({ repositories: ["acme/billing", "tools/cli"], createdBy: "UDANA", createPullRequests: true, verify: "npm test" });
    expect(job!.slack?.threadTs).toBeTruthy();
    expect(launched.map((j) => j.jobId)).toEqual([jobId]);
    const roots = slack.ok("chat.postMessage").filter((c) => c.args.channel === "C1" && !c.args.thread_ts);
    expect(roots).toHaveLength(1);
  });

  it("acknowledges a 1000-repository job under 3 s and keeps every message within limits", async () => {
    const r = await post(submission("VBIG", { repositories: "acme/*" }));
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    await local.settled();
    const job = await store.getJob(jobIdForView("VBIG"));
    expect(job?.repositories).toHaveLength(1000);
    expect(launched).toHaveLength(1);
    expect(slack.calls.filter((c) => c.error)).toEqual([]);
  });

  it("refuses a cancel by someone else and cancels for the creator", async () => {
    await post(submission("VCANCEL", { repositories: "tools/cli" }));
    await local.settled();
    const jobId = jobIdForView("VCANCEL");
    await post(button("cancel_job", jobId, "UMALLORY"));
    await eventually(() => expect(slack.ok("chat.postEphemeral").length).toBeGreaterThan(0));
    const refusal = slack.ok("chat.postEphemeral").at(-1)!;
    expect(refusal.args).toMatchObject({ user: "UMALLORY", channel: "C1" });
    expect(String(refusal.args.text)).toContain("Only the job's creator");
    expect((await store.getJob(jobId))!.status).toBe("PENDING");

    const r = await post(command(`cancel ${jobId}`, "UDANA"));
    expect(r.status).toBe(200);
    await eventually(() => expect(slack.ok("chat.postEphemeral")).toHaveLength(2));
    await local.settled();
    expect((await store.getJob(jobId))!.status).toBe("CANCELLED");
    expect(String(slack.ok("chat.postEphemeral").at(-1)!.args.text)).toContain("is cancelled");
  });

  it.for([
    { name: "help", text: "help", want: "/cody status <job>" },
    { name: "unknown words show help", text: "frobnicate", want: "I don't know `frobnicate`" },
    { name: "list", text: "list", want: "*Recent jobs*" },
    { name: "status of a missing job", text: "status j-nope", want: "No job `j-nope`" },
  ])("/cody $name", async (tc) => {
    const r = await post(command(tc.text));
    const body = JSON.parse(r.text) as { response_type: string; text: string };
    expect(body.response_type).toBe("ephemeral");
    expect(body.text).toContain(tc.want);
  });

  it("/cody status shows a job's summary", async () => {
    await post(submission("VSTATUS", { repositories: "tools/cli" }));
    await local.settled();
    const jobId = jobIdForView("VSTATUS");
    const body = JSON.parse((await post(command(`status ${jobId}`))).text) as { text: string };
    expect(body.text).toContain(`\`${jobId}\` *Migrate fetchJson*`);
    expect(body.text).toContain("0 / 1");
  });

  it("serves /health and answers stable links with a fresh redirect, 404 and 410", async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const key = deriveLinkKey(SECRET);
    const good = signLink(key, { jobId: "j-1", key: "diffs/j-1/acme/a.diff", exp: Math.floor(Date.now() / 1000) + 60 });
    const r = await fetch(`${base}/links/${good}`, { redirect: "manual" });
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toContain("diffs/j-1/acme/a.diff");
    expect((await fetch(`${base}/links/${good.slice(0, -2)}xx`, { redirect: "manual" })).status).toBe(404);
    const old = signLink(key, { jobId: "j-1", key: "diffs/j-1/acme/a.diff", exp: 1 });
    expect((await fetch(`${base}/links/${old}`, { redirect: "manual" })).status).toBe(410);
  });
});
