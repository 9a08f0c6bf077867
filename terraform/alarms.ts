/**
 * Alarms, all to one SNS topic (e-mailed to ALARM_EMAIL, required in prod): bot errors and
 * throttles, the bot's dead-letter queue depth, DynamoDB throttling per table, the HTTP API's 5XX
 * answers, FAILED repositories and failed watchdog passes (metric filters on the pino JSON logs),
 * failed Batch jobs through an EventBridge rule (one per job: array children and our own
 * cancellations are left out), and a monthly cost budget on the stack's tag.
 */
import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget/index.js";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter/index.js";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target/index.js";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic/index.js";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy/index.js";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription/index.js";
import { Construct } from "constructs";
import { CANCEL_REASON_PREFIX } from "../core/launch/index.ts";
import type { Bot } from "./bot.ts";
import { policyDocument } from "./policy.ts";
import type { Runner } from "./runner.ts";
import { resourceName, stackTag, type StackSettings } from "./settings.ts";
import type { Storage } from "./storage.ts";

export type AlarmsProps = { settings: StackSettings; storage: Storage; runner: Runner; bot: Bot; accountId: string };

export class Alarms extends Construct {
  readonly topic: SnsTopic;

  constructor(scope: Construct, id: string, p: AlarmsProps) {
    super(scope, id);
    const s = p.settings;
    const name = (n: string) => resourceName(s, n);

    // Not KMS-encrypted: EventBridge cannot publish to a topic under the AWS-managed SNS key,
    // and alarm messages carry no secrets.
    this.topic = new SnsTopic(this, "topic", { name: name("alarms") });
    new SnsTopicPolicy(this, "topic-policy", {
      arn: this.topic.arn,
      policy: policyDocument([
        {
          Sid: "AlarmsAndEvents",
          Principal: { Service: ["cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"] },
          Action: ["sns:Publish"],
          Resource: [this.topic.arn],
          Condition: { StringEquals: { "aws:SourceAccount": p.accountId } },
        },
      ]),
    });
    if (s.alarmEmail) new SnsTopicSubscription(this, "email", { topicArn: this.topic.arn, protocol: "email", endpoint: s.alarmEmail });

    // Every alarm fires on one occurrence in a 5-minute period and notifies the topic both ways.
    const common = {
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [this.topic.arn],
      okActions: [this.topic.arn],
    };
    const alarm = (id: string, cfg: { description: string; namespace: string; metricName: string; dimensions?: Record<string, string>; statistic: string }) =>
      new CloudwatchMetricAlarm(this, id, {
        ...common,
        alarmName: name(id),
        alarmDescription: cfg.description,
        namespace: cfg.namespace,
        metricName: cfg.metricName,
        ...(cfg.dimensions ? { dimensions: cfg.dimensions } : {}),
        statistic: cfg.statistic,
        period: 300,
      });
    // Metrics from log lines (pino JSON): a FAILED repository ends its Batch child SUCCEEDED, so
    // only the runner's "repository finished" line (and the watchdog's) tells.
    const namespace = `CodyBatch/${s.env}`;
    const logMetric = (id: string, logGroupName: string, pattern: string, metricName: string) =>
      new CloudwatchLogMetricFilter(this, id, { name: name(id), logGroupName, pattern, metricTransformation: { name: metricName, namespace, value: "1", defaultValue: "0" } });
    logMetric("failed-repositories-runner", p.runner.logGroup.name, `{ $.msg = "repository finished" && $.status = "FAILED" }`, "FailedRepositories");
    logMetric("failed-repositories-watchdog", p.bot.logGroup.name, `{ $.msg = "watchdog failed a repository" }`, "FailedRepositories");
    logMetric("watchdog-errors-log", p.bot.logGroup.name, `{ $.msg = "watchdog pass failed" }`, "WatchdogErrors");
    alarm("failed-repositories", {
      description: "Repositories ended FAILED (expired GitHub token, Anthropic key, push rejected, crashes): see cody status and the runner logs",
      namespace,
      metricName: "FailedRepositories",
      statistic: "Sum",
    });
    alarm("watchdog-errors", { description: "A scheduled watchdog pass failed (see the bot's log group)", namespace, metricName: "WatchdogErrors", statistic: "Sum" });
    alarm("api-5xx", {
      description: "The bot's HTTP API answered 5XX (Lambda errors, timeouts): see the access logs",
      namespace: "AWS/ApiGateway",
      metricName: "5xx",
      dimensions: { ApiId: p.bot.api.id },
      statistic: "Sum",
    });
    const fn = { FunctionName: p.bot.function.functionName };
    alarm("bot-errors", { description: "The Slack bot Lambda failed (see its log group)", namespace: "AWS/Lambda", metricName: "Errors", dimensions: fn, statistic: "Sum" });
    alarm("bot-throttles", { description: "The Slack bot Lambda was throttled", namespace: "AWS/Lambda", metricName: "Throttles", dimensions: fn, statistic: "Sum" });
    alarm("bot-dead-letters", {
      description: "Asynchronous bot invocations failed and wait in the dead-letter queue",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: p.bot.deadLetters.name },
      statistic: "Maximum",
    });
    for (const [id, table] of [["jobs", p.storage.jobsTable], ["repositories", p.storage.reposTable]] as const) {
      new CloudwatchMetricAlarm(this, `${id}-throttles`, {
        ...common,
        alarmName: name(`${id}-throttles`),
        alarmDescription: `DynamoDB throttled requests on ${table.name}`,
        metricQuery: [
          { id: "reads", metric: { namespace: "AWS/DynamoDB", metricName: "ReadThrottleEvents", dimensions: { TableName: table.name }, period: 300, stat: "Sum" } },
          { id: "writes", metric: { namespace: "AWS/DynamoDB", metricName: "WriteThrottleEvents", dimensions: { TableName: table.name }, period: 300, stat: "Sum" } },
          { id: "throttles", expression: "reads + writes", label: "throttled requests", returnData: true },
        ],
      });
    }

    const rule = new CloudwatchEventRule(this, "batch-failures", {
      name: name("batch-failures"),
      description: "A Cody Batch runner job failed (infrastructure: repositories' own failures end SUCCEEDED)",
      eventPattern: JSON.stringify({
        source: ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        detail: {
          status: ["FAILED"],
          jobQueue: [p.runner.queue.arn],
          statusReason: [{ "anything-but": { prefix: CANCEL_REASON_PREFIX } }],
          // Array children carry arrayProperties.index: only the parent (or a plain job) e-mails.
          arrayProperties: { index: [{ exists: false }] },
        },
      }),
    });
    new CloudwatchEventTarget(this, "batch-failures-target", {
      rule: rule.name,
      arn: this.topic.arn,
      inputTransformer: {
        inputPaths: { job: "$.detail.jobName", id: "$.detail.jobId", reason: "$.detail.statusReason" },
        inputTemplate: '"Cody Batch job <job> (<id>) failed: <reason>"',
      },
    });
    // Needs the CodyBatchStack tag activated as a cost allocation tag (Billing console, once per account).
    new BudgetsBudget(this, "budget", {
      name: name("monthly"),
      budgetType: "COST",
      limitAmount: String(s.budgetUsd),
      limitUnit: "USD",
      timeUnit: "MONTHLY",
      costFilter: [{ name: "TagKeyValue", values: [`user:${stackTag(s).key}$${stackTag(s).value}`] }],
      notification: [
        { comparisonOperator: "GREATER_THAN", threshold: 80, thresholdType: "PERCENTAGE", notificationType: "ACTUAL", subscriberSnsTopicArns: [this.topic.arn] },
        { comparisonOperator: "GREATER_THAN", threshold: 100, thresholdType: "PERCENTAGE", notificationType: "FORECASTED", subscriberSnsTopicArns: [this.topic.arn] },
      ],
    });
  }
}
