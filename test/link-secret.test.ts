/**
 * Stable links in AWS: the runner (which never sees the Slack signing secret) and the bot sign
 * and verify with the shared LINK_SIGNING_SECRET; without it the runner falls back to presigned links.
 */
import { expect, it } from "vitest";
import { loadConfig, secretValues } from "../core/config/index.ts";
import { newLinkBuilder, serveLink } from "../bot/links.ts";
import { linkKeyOf } from "../bot/wiring.ts";

const job = { jobId: "j-abcdefghij", expiresAt: Math.floor(Date.now() / 1000) + 3600 };
const key = "diffs/j-abcdefghij/acme/one.diff";
const artifacts = { link: async (k: string) => `https://s3.example/presigned/${k}` };

it.for([
  { name: "the shared link secret", runner: { LINK_SIGNING_SECRET: "link-secret-0123456789abcdef" }, want: 302 },
  { name: "no link secret (runner presigns instead)", runner: {}, want: "presigned" },
])("a runner's link with $name", async ({ runner, want }) => {
  const runnerConfig = loadConfig({ BOT_PUBLIC_URL: "https://api.example", ...runner });
  const url = await newLinkBuilder({ publicUrl: runnerConfig.botPublicUrl, signingSecret: runnerConfig.linkSecret, artifacts })(job, key);
  if (want === "presigned") {
    expect(url).toBe(`https://s3.example/presigned/${key}`);
    return;
  }
  expect(url).toMatch(/^https:\/\/api\.example\/links\//);
  const bot = loadConfig({ BOT_PUBLIC_URL: "https://api.example", SLACK_SIGNING_SECRET: "slack-signing-different", LINK_SIGNING_SECRET: "link-secret-0123456789abcdef" });
  const r = await serveLink({ linkKey: linkKeyOf(bot)!, artifacts }, url!.split("/links/")[1]!);
  expect(r).toEqual({ status: want, location: `https://s3.example/presigned/${key}` });
  // Signed with the Slack signing secret instead, the bot refuses it.
  const other = loadConfig({ BOT_PUBLIC_URL: "https://api.example", SLACK_SIGNING_SECRET: "slack-signing-different" });
  expect((await serveLink({ linkKey: linkKeyOf(other)!, artifacts }, url!.split("/links/")[1]!)).status).toBe(404);
  expect(secretValues(bot)).toContain("link-secret-0123456789abcdef");
});
