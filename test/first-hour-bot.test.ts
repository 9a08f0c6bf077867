/**
 * The first hour through the bot's real HTTP entry (issue 21): the modal refuses what it cannot
 * do, inline and before anything is written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobIdForView, type BotSettings } from "../bot/jobs.ts";
import type { Store } from "../core/jobs/index.ts";
import { startBotServer, type BotServer } from "./support/bot-server.ts";
import { submission } from "./support/slack-requests.ts";

const SECRET = "first-hour-signing-secret-0123456";
let bot: BotServer;
let store: Store;
let settings: BotSettings;

beforeAll(async () => {
  bot = await startBotServer({ secret: SECRET, env: { ALLOWED_REPOSITORIES: "acme/*" }, settings: { allowedScriptUsers: ["UDANA"], githubAccess: false } });
  ({ store, settings } = bot);
});
afterAll(async () => bot?.close());

const errorsOf = (text: string) => (JSON.parse(text) as { errors?: Record<string, string> }).errors ?? {};

describe("the modal's Open pull requests without GitHub access", () => {
  it("is refused on the checkbox, and no job is written", async () => {
    const r = await bot.post(submission("VNOGH", { repositories: "acme/a", type: "script", instructions: "true", verify: "" }));
    expect(errorsOf(r.text)).toEqual({
      options: 'Opening pull requests needs GitHub access, and this Cody Batch has none (GITHUB_TOKEN or a GitHub App). Untick "Open pull requests" to preview the change.',
    });
    await bot.settled();
    expect(await store.getJob(jobIdForView("VNOGH"))).toBeUndefined();
    expect(bot.launched).toEqual([]);
  });

  it("is taken when the bot has GitHub access", async () => {
    settings.githubAccess = true;
    const r = await bot.post(submission("VWITHGH", { repositories: "acme/a", type: "script", instructions: "true", verify: "" }));
    expect(r.text).toBe("");
    await bot.settled();
    expect(await store.getJob(jobIdForView("VWITHGH"))).toMatchObject({ createPullRequests: true });
  });
});
