/**
 * Alarms into the Slack ops channel through the bot (ALARM_SLACK_CHANNEL, issue 23): the bot
 * Lambda receives the SNS deliveries of both topics and posts one line each into the channel,
 * severity first, through the Slack fake.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newConsoleNotifier } from "../core/jobs/index.ts";
import { newTell, type BotDeps } from "../bot/app.ts";
import { newLambdaHandler } from "../bot/lambda.ts";
import { newSlackClient } from "../bot/slack-notifier.ts";
import { startFakeSlack, type FakeSlack } from "./fakes/slack.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let slack: FakeSlack;
beforeAll(async () => {
  stack = await startTestStack();
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
  await stack?.stop();
});

const sns = (topic: string, message: string) => ({ Records: [{ EventSource: "aws:sns", Sns: { TopicArn: `arn:aws:sns:us-east-1:123456789012:${topic}`, Subject: "ALARM", Message: message } }] });

describe("alarms posted into the ops channel", () => {
  it("posts page and ticket notifications with their severity, alarm name, state and reason", async () => {
    const client = newSlackClient({ slack: { botToken: slack.token, apiUrl: slack.apiUrl } }, { retryConfig: { retries: 0 } });
    const deps: BotDeps = {
      store: stack.store,
      artifacts: stack.artifacts,
      launcher: { submit: async () => ({ batchJobId: "b" }), cancel: async () => undefined },
      notifier: newConsoleNotifier(stack.log),
      expandOwner: async () => [],
      settings: { allowlist: [], allowedSlackUsers: [] },
      tell: newTell(client, stack.log),
      log: stack.log,
      deferred: async () => undefined,
    };
    const handler = newLambdaHandler({ deps, token: slack.token, signingSecret: "alerts-signing-secret-0123456789", apiUrl: slack.apiUrl, artifacts: stack.artifacts, log: stack.log, alarmChannel: "C0OPS1234" });
    const alarm = JSON.stringify({ AlarmName: "cody-batch-prod-watchdog-missing", NewStateValue: "ALARM", NewStateReason: "Threshold Crossed: no datapoints", AlarmDescription: "[page] The watchdog has not run" });
    expect(await handler(sns("cody-batch-prod-alarms", alarm) as never, {})).toEqual({ ok: true });
    expect(await handler(sns("cody-batch-prod-tickets", '"Cody Batch job cody-prod-j-1 (abc) failed: Essential container exited"') as never, {})).toEqual({ ok: true });
    const posted = slack.ok("chat.postMessage").map((c) => [c.args.channel, c.args.text]);
    expect(posted).toEqual([
      ["C0OPS1234", "🚨 page · 🔴 *cody-batch-prod-watchdog-missing* is ALARM: [page] The watchdog has not run\n> Threshold Crossed: no datapoints"],
      ["C0OPS1234", "🎫 ticket · Cody Batch job cody-prod-j-1 (abc) failed: Essential container exited"],
    ]);
  });
});
