/**
 * Issue 23 on the synthesized stack: severity, the watchdog's heartbeat, per-environment agent
 * limits and job budget, alarms into Slack, the GitHub webhook, dashboard, saved queries, X-Ray,
 * the kill switch, artifacts versioning and the tables' AWS Backup plan.
 */
import { describe, expect, it } from "vitest";
import { allStatements, asList, one, PROD_ENV, ref, resources, synth, type Json } from "./test-synth.ts";

const { json } = synth({ WATCHDOG_ENABLED: "true" });
const alarm = (j: Json, n: string) => resources(j, "aws_cloudwatch_metric_alarm").find((a) => a.alarm_name === `cody-batch-dev-${n}`)!;

describe("alarms with severity", () => {
  it("pages when the watchdog missed two periods (its heartbeat metric), never while it is disabled", () => {
    expect(alarm(json, "watchdog-missing")).toMatchObject({
      metric_name: "WatchdogPasses",
      namespace: "CodyBatch/dev",
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      evaluation_periods: 2,
      treat_missing_data: "breaching",
      alarm_actions: [ref(json, "aws_sns_topic", "arn", (t) => t.name === "cody-batch-dev-alarms")],
    });
    expect(alarm(synth().json, "watchdog-missing")).toBeUndefined();
  });

  it("pages on a job-level failure rate, a long queue and a bot near its timeout", () => {
    const rate = alarm(json, "failure-rate");
    expect(rate.threshold).toBe(50);
    expect(rate.metric_query.find((q: Json) => q.id === "rate").expression).toBe("IF(finished >= 10, 100 * failed / finished, 0)");
    expect(alarm(synth({ FAILURE_RATE_PAGE_PERCENT: "20" }).json, "failure-rate").threshold).toBe(20);
    expect(alarm(json, "queued-too-long")).toMatchObject({ metric_name: "QueuedMinutes", statistic: "Maximum", threshold: 120 });
    expect(alarm(json, "bot-duration")).toMatchObject({ metric_name: "Duration", statistic: "Maximum", threshold: 240000, comparison_operator: "GreaterThanThreshold" });
    const blocked = resources(json, "aws_cloudwatch_event_rule").find((r) => r.name === "cody-batch-dev-queue-blocked")!;
    expect(JSON.parse(blocked.event_pattern)).toEqual({ source: ["aws.batch"], "detail-type": ["Batch Job Queue Blocked"], detail: { jobQueue: [ref(json, "aws_batch_job_queue", "arn")] } });
  });

  it("delivers both topics into a Slack channel through the bot when ALARM_SLACK_CHANNEL is set", () => {
    const { json: j } = synth({ ALARM_SLACK_CHANNEL: "C0OPS1234" });
    const subs = resources(j, "aws_sns_topic_subscription");
    expect(subs.map((s) => [s.protocol, s.endpoint])).toEqual([
      ["lambda", ref(j, "aws_lambda_function", "arn")],
      ["lambda", ref(j, "aws_lambda_function", "arn")],
    ]);
    expect(resources(j, "aws_lambda_permission").filter((p) => p.principal === "sns.amazonaws.com")).toHaveLength(2);
    expect(one(j, "aws_lambda_function").environment.variables.ALARM_SLACK_CHANNEL).toBe("C0OPS1234");
    expect(() => synth({ ALARM_SLACK_CHANNEL: "#ops" })).toThrow("ALARM_SLACK_CHANNEL: a Slack channel id");
  });

  it("sends tickets to TICKET_EMAIL when given, else to ALARM_EMAIL", () => {
    const { json: j } = synth({ ...PROD_ENV, TICKET_EMAIL: "tickets@example.com" });
    expect(resources(j, "aws_sns_topic_subscription").map((s) => s.endpoint)).toEqual(["ops@example.com", "tickets@example.com"]);
  });
});

describe("settings per environment", () => {
  it("passes CLAUDE_MAX_* and DEFAULT_JOB_BUDGET_USD to the runner (and the budget to the bot), refusing bad values", () => {
    const { json: j } = synth({ CLAUDE_MAX_TURNS: "40", CLAUDE_MAX_RETRIES: "0", CLAUDE_TIME_LIMIT_SECONDS: "900", DEFAULT_JOB_BUDGET_USD: "12.5" });
    const env = Object.fromEntries(JSON.parse(one(j, "aws_batch_job_definition").container_properties).environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toMatchObject({ CLAUDE_MAX_TURNS: "40", CLAUDE_MAX_RETRIES: "0", CLAUDE_TIME_LIMIT_SECONDS: "900", DEFAULT_JOB_BUDGET_USD: "12.5" });
    expect(one(j, "aws_lambda_function").environment.variables.DEFAULT_JOB_BUDGET_USD).toBe("12.5");
    expect(() => synth({ CLAUDE_MAX_TURNS: "0" })).toThrow("CLAUDE_MAX_TURNS: must be a positive whole number");
    expect(() => synth({ DEFAULT_JOB_BUDGET_USD: "free" })).toThrow("DEFAULT_JOB_BUDGET_USD: must be a positive number of USD");
  });
});

describe("GitHub webhooks deployed", () => {
  it("routes POST /github/webhooks to the bot and gives it GITHUB_WEBHOOK_SECRET from Secrets Manager", () => {
    const route = resources(json, "aws_apigatewayv2_route").find((r) => r.route_key === "POST /github/webhooks");
    expect(route?.target).toBe(`integrations/${ref(json, "aws_apigatewayv2_integration", "id")}`);
    const secret = ref(json, "aws_secretsmanager_secret", "arn", (s) => s.name === "cody-batch-dev-github-webhook-secret");
    expect(one(json, "aws_lambda_function").environment.variables.GITHUB_WEBHOOK_SECRET_SECRET_ARN).toBe(secret);
    expect(asList(allStatements(json).find((s) => (s as { Sid?: string }).Sid === "ReadSecrets")?.Resource)).toContain(secret);
    const runnerEnv = JSON.parse(one(json, "aws_batch_job_definition").container_properties).environment.map((e: { name: string }) => e.name);
    expect(runnerEnv).not.toContain("GITHUB_WEBHOOK_SECRET_SECRET_ARN");
    expect(json.output.secret_github_webhook_secret.value).toBe(secret);
  });
});

describe("observability", () => {
  it("has a dashboard over jobs, repositories, the queue, the bot, the API, throttling and Claude cost", () => {
    const body = JSON.parse(one(json, "aws_cloudwatch_dashboard").dashboard_body) as { widgets: { properties: { title: string } }[] };
    expect(body.widgets.map((w) => w.properties.title)).toEqual([
      "Repositories by outcome",
      "Batch queue (watchdog): longest wait, minutes",
      "Watchdog passes (heartbeat) and errors",
      "Bot Lambda",
      "Bot duration (ms; limit 300000)",
      "HTTP API",
      "GitHub rate limits hit",
      "Claude tokens",
      "Claude cost (USD)",
      "Slack and GitHub throttling (log lines)",
    ]);
  });

  it("saves Logs Insights queries for cold starts, durations, failures by reason and more", () => {
    const names = resources(json, "aws_cloudwatch_query_definition").map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(["cody-batch-dev/cold-starts", "cody-batch-dev/bot-duration", "cody-batch-dev/failures-by-reason", "cody-batch-dev/job-story"]));
    const cold = resources(json, "aws_cloudwatch_query_definition").find((q) => q.name === "cody-batch-dev/cold-starts")!;
    expect(cold.query_string).toContain("@initDuration");
    expect(cold.log_group_names).toEqual([ref(json, "aws_cloudwatch_log_group", "name", (g) => g.name === "/aws/lambda/cody-batch-dev-bot")]);
  });

  it("traces the bot with X-Ray and reserves its concurrency (0 = the kill switch)", () => {
    const fn = one(json, "aws_lambda_function");
    expect(fn.tracing_config).toEqual({ mode: "Active" });
    expect(fn.reserved_concurrent_executions).toBe(20);
    expect(one(synth({ BOT_RESERVED_CONCURRENCY: "0" }).json, "aws_lambda_function").reserved_concurrent_executions).toBe(0);
    expect(allStatements(json).find((s) => (s as { Sid?: string }).Sid === "Traces")?.Action).toEqual(["xray:PutTraceSegments", "xray:PutTelemetryRecords"]);
  });
});

describe("recovery", () => {
  it("versions the artifacts bucket and expires old versions", () => {
    expect(one(json, "aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    const rules = one(json, "aws_s3_bucket_lifecycle_configuration").rule as Json[];
    expect(rules.find((r) => r.id === "expire-artifacts")).toMatchObject({ expiration: [{ days: 30 }], noncurrent_version_expiration: [{ noncurrent_days: 7 }] });
    expect(rules.find((r) => r.id === "expired-delete-markers")).toMatchObject({ expiration: [{ expired_object_delete_marker: true }] });
  });

  it("backs both tables up daily with AWS Backup (35 days in prod)", () => {
    const selection = one(json, "aws_backup_selection");
    expect(selection.resources).toEqual([
      ref(json, "aws_dynamodb_table", "arn", (t) => t.name === "cody-batch-dev-jobs"),
      ref(json, "aws_dynamodb_table", "arn", (t) => t.name === "cody-batch-dev-repositories"),
    ]);
    expect(one(json, "aws_backup_plan").rule[0]).toMatchObject({ schedule: "cron(0 5 * * ? *)", lifecycle: { delete_after: 7 } });
    expect(one(synth(PROD_ENV).json, "aws_backup_plan").rule[0].lifecycle).toEqual({ delete_after: 35 });
    expect(resources(json, "aws_iam_role_policy_attachment").map((a) => a.policy_arn)).toEqual([
      "arn:${data.aws_partition.partition.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
      "arn:${data.aws_partition.partition.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    ]);
  });
});
