/**
 * Drives a built bot bundle (argv[2], e.g. dist/bot.js) as Lambda would: GET /health, a signed
 * `/cody help`, and a signed `/cody` that opens the modal through the Slack fake. Prints one JSON
 * line with what happened; used by test/bundle.test.ts.
 */
import { createHmac } from "node:crypto";
import { startFakeSlack } from "../fakes/slack.ts";

const SECRET = "s3cr3t-signing-secret";
const slack = await startFakeSlack({ token: "xoxb-test-token" });
Object.assign(process.env, {
  SLACK_BOT_TOKEN: "xoxb-test-token",
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_API_URL: slack.apiUrl,
  ALLOWED_REPOSITORIES: "acme/*",
  AWS_LAMBDA_FUNCTION_NAME: "cody-batch-test-bot",
  LAUNCHER: "batch",
  AWS_BATCH_JOB_QUEUE: "q",
  AWS_BATCH_JOB_DEFINITION: "d",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
});
const { handler } = (await import(process.argv[2]!)) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body?: string }> };

function command(text: string) {
  const body = `command=%2Fcody&text=${encodeURIComponent(text)}&user_id=U1&channel_id=C1&team_id=T1&trigger_id=1.2&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fr`;
  const ts = Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac("sha256", SECRET).update(`v0:${ts}:${body}`).digest("hex")}`;
  return handler(
    {
      rawPath: "/slack/events",
      requestContext: { http: { method: "POST" } },
      headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-signature": sig, "x-slack-request-timestamp": String(ts) },
      body,
      isBase64Encoded: false,
    },
    {},
  );
}

const health = await handler({ rawPath: "/health", requestContext: { http: { method: "GET" } }, headers: {}, body: "", isBase64Encoded: false }, {});
const help = await command("help");
const modal = await command("");
process.stdout.write(
  `${JSON.stringify({ health: health.statusCode, help: help.statusCode, helpText: String(help.body ?? ""), modal: modal.statusCode, slackCalls: slack.calls.map((c) => c.method) })}\n`,
);
await slack.close();
process.exit(0);
