import { beforeAll, describe, expect, it } from "vitest";
import { allStatements, asList, one, PROD_ENV, ref, resources, synth, type Json } from "./test-synth.ts";

describe("what an operator relies on once deployed", () => {
  let json: Json;
  beforeAll(() => ({ json } = synth()));

  it("counts FAILED repositories and failed watchdog passes from the logs and alarms on them", () => {
    const filters = resources(json, "aws_cloudwatch_log_metric_filter");
    const runnerLogs = ref(json, "aws_cloudwatch_log_group", "name", (g) => g.name === "/aws/batch/cody-batch-dev-runner");
    const botLogs = ref(json, "aws_cloudwatch_log_group", "name", (g) => g.name === "/aws/lambda/cody-batch-dev-bot");
    expect(filters.map((f) => [f.log_group_name, f.pattern, f.metric_transformation.name])).toEqual(
      expect.arrayContaining([
        [runnerLogs, '{ $.msg = "repository finished" && $.status = "FAILED" }', "FailedRepositories"],
        [botLogs, '{ $.msg = "watchdog failed a repository" }', "FailedRepositories"],
        [botLogs, '{ $.msg = "watchdog pass failed" }', "WatchdogErrors"],
        [botLogs, '{ $.msg = "watchdog pass finished" }', "WatchdogPasses"],
        [botLogs, '{ $.msg = "watchdog found a queued job" }', "QueuedMinutes"],
      ]),
    );
    for (const f of filters) expect(f.metric_transformation).toMatchObject({ namespace: "CodyBatch/dev" });
    const alarm = (n: string) => resources(json, "aws_cloudwatch_metric_alarm").find((a) => a.alarm_name === `cody-batch-dev-${n}`)!;
    expect(alarm("failed-repositories")).toMatchObject({ namespace: "CodyBatch/dev", metric_name: "FailedRepositories", statistic: "Sum", threshold: 1 });
    expect(alarm("watchdog-errors")).toMatchObject({ namespace: "CodyBatch/dev", metric_name: "WatchdogErrors" });
    expect(alarm("api-5xx")).toMatchObject({ namespace: "AWS/ApiGateway", metric_name: "5xx", dimensions: { ApiId: ref(json, "aws_apigatewayv2_api", "id") } });
  });

  it("e-mails one Batch failure per job: array children are left out", () => {
    const rule = resources(json, "aws_cloudwatch_event_rule").find((r) => r.event_pattern)!;
    expect(JSON.parse(rule.event_pattern).detail.arrayProperties).toEqual({ index: [{ exists: false }] });
  });

  it("keeps the watchdog schedule disabled until WATCHDOG_ENABLED=true", () => {
    const state = (j: Json) => resources(j, "aws_cloudwatch_event_rule").find((r) => r.schedule_expression)!.state;
    expect(state(json)).toBe("DISABLED");
    expect(state(synth({ WATCHDOG_ENABLED: "true" }).json)).toBe("ENABLED");
  });

  it("serves stable links: a /links route, BOT_PUBLIC_URL for the bot, a link-signing secret", () => {
    const route = resources(json, "aws_apigatewayv2_route").find((r) => r.route_key === "GET /links/{token}");
    expect(route?.target).toBe(`integrations/${ref(json, "aws_apigatewayv2_integration", "id")}`);
    expect(resources(json, "aws_secretsmanager_secret").map((s) => s.name)).toContain("cody-batch-dev-link-signing-secret");
    expect(json.output.bot_public_url.value).toBe(ref(json, "aws_apigatewayv2_api", "api_endpoint"));
  });

  it("logs every API request as JSON without headers", () => {
    const stage = one(json, "aws_apigatewayv2_stage");
    expect(stage.access_log_settings.destination_arn).toBe(ref(json, "aws_cloudwatch_log_group", "arn", (g) => g.name === "/aws/apigateway/cody-batch-dev-bot"));
    const format = JSON.parse(stage.access_log_settings.format);
    expect(format).toMatchObject({ status: "$context.status", routeKey: "$context.routeKey" });
    expect(JSON.stringify(format)).not.toMatch(/header|body/i);
  });

  it("tags everything with the stack, propagates the tags to Fargate tasks and budgets on them", () => {
    expect(json.provider.aws[0].default_tags[0].tags).toMatchObject({ CodyBatchStack: "cody-batch-dev", Project: "cody-batch" });
    expect(one(json, "aws_batch_job_definition").propagate_tags).toBe(true);
    const budget = one(json, "aws_budgets_budget");
    expect(budget).toMatchObject({ budget_type: "COST", limit_amount: "100", limit_unit: "USD", time_unit: "MONTHLY" });
    expect(budget.cost_filter).toEqual([{ name: "TagKeyValue", values: ["user:CodyBatchStack$cody-batch-dev"] }]);
    for (const n of budget.notification) expect(n.subscriber_sns_topic_arns).toEqual([ref(json, "aws_sns_topic", "arn", (t) => t.name === "cody-batch-dev-tickets")]);
    for (const p of resources(json, "aws_sns_topic_policy")) expect(JSON.parse(p.policy).Statement[0].Principal.Service).toContain("budgets.amazonaws.com");
  });

  it("takes table names from the settings (a restored table adopted in place)", () => {
    const { json: restored } = synth({ JOBS_TABLE_NAME: "cody-batch-dev-jobs-restored" });
    const names = resources(restored, "aws_dynamodb_table").map((t) => t.name);
    expect(names).toEqual(["cody-batch-dev-jobs-restored", "cody-batch-dev-repositories"]);
    const tables = allStatements(restored).find((st) => (st as { Sid?: string }).Sid === "Tables");
    expect(asList(tables?.Resource)).toContain(ref(restored, "aws_dynamodb_table", "arn", (t) => t.name === "cody-batch-dev-jobs-restored"));
  });

  it("prod: subnets given, no default VPC data source, and alarms e-mailed", () => {
    const { json: prod } = synth(PROD_ENV);
    expect(prod.data?.aws_vpc).toBeUndefined();
    expect(resources(prod, "aws_sns_topic_subscription").map((x) => [x.protocol, x.endpoint])).toEqual([
      ["email", "ops@example.com"],
      ["email", "ops@example.com"],
    ]);
    expect(prod.terraform.backend.s3).toBeDefined();
  });

  it("lets the bot cancel only jobs with its stack's tag (which it sets on submit); TerminateJob stays account-wide", () => {
    const bySid = (sid: string) => allStatements(json).find((st) => (st as { Sid?: string }).Sid === sid) as Json;
    const jobs = "arn:${data.aws_partition.partition.partition}:batch:us-east-1:${data.aws_caller_identity.account.account_id}:job/*";
    expect(bySid("CancelOwnJobs")).toMatchObject({ Action: ["batch:CancelJob"], Resource: [jobs], Condition: { StringEquals: { "aws:ResourceTag/CodyBatchStack": "cody-batch-dev" } } });
    expect(bySid("TagOnSubmit")).toMatchObject({ Action: ["batch:TagResource"], Condition: { StringEquals: { "aws:RequestTag/CodyBatchStack": "cody-batch-dev" } } });
    expect(bySid("TerminateJobs")).toMatchObject({ Action: ["batch:TerminateJob"], Resource: [jobs] });
    expect(bySid("TerminateJobs").Condition).toBeUndefined();
  });
});
