/**
 * Alarms with severity (issue 23), on two SNS topics:
 * - **page** (`cody-batch-<env>-alarms`, e-mailed to ALARM_EMAIL, required in prod): the job-level
 *   failure rate over FAILURE_RATE_PAGE_PERCENT, the watchdog not run for two periods (its
 *   heartbeat metric WatchdogPasses), a job queued in Batch longer than QUEUED_PAGE_MINUTES, a
 *   Batch job queue blocked (EventBridge), the HTTP API's 5XX, bot errors, throttles and a duration
 *   above 80 % of its timeout;
 * - **ticket** (`cody-batch-<env>-tickets`, TICKET_EMAIL or ALARM_EMAIL): single FAILED
 *   repositories, dead letters waiting, DynamoDB throttling, failed watchdog passes, failed Batch
 *   jobs (one per job: array children and our own cancellations left out), the monthly budget.
 * With ALARM_SLACK_CHANNEL both topics also deliver to the bot, which posts into that channel.
 * Metrics from logs are metric filters on the pino JSON lines.
 */
import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget/index.js";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter/index.js";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target/index.js";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic/index.js";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy/index.js";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription/index.js";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission/index.js";
import { Construct } from "constructs";
import { CANCEL_REASON_PREFIX } from "../core/launch/index.ts";
import type { Bot } from "./bot.ts";
import { policyDocument } from "./policy.ts";
import type { Runner } from "./runner.ts";
import { resourceName, stackTag, type StackSettings } from "./settings.ts";
import type { Storage } from "./storage.ts";

/** Who an alarm wakes: page = now, ticket = next working day. */
export type Severity = "page" | "ticket";

export type AlarmsProps = { settings: StackSettings; storage: Storage; runner: Runner; bot: Bot; accountId: string };

/** The bot Lambda's timeout (terraform/bot.ts): a duration alarm fires above 80 % of it. */
const BOT_TIMEOUT_MS = 300_000;

export class Alarms extends Construct {
  /** The page topic (kept under its first name, `alarms`: its e-mail subscription stays confirmed). */
  readonly topic: SnsTopic;
  readonly ticketTopic: SnsTopic;

  constructor(scope: Construct, id: string, p: AlarmsProps) {
    super(scope, id);
    const s = p.settings;
    const name = (n: string) => resourceName(s, n);

    // Not KMS-encrypted: EventBridge cannot publish to a topic under the AWS-managed SNS key,
    // and alarm messages carry no secrets.
    this.topic = new SnsTopic(this, "topic", { name: name("alarms") });
    this.ticketTopic = new SnsTopic(this, "ticket-topic", { name: name("tickets") });
    for (const [id, topic] of [["topic-policy", this.topic], ["ticket-topic-policy", this.ticketTopic]] as const) {
      new SnsTopicPolicy(this, id, {
        arn: topic.arn,
        policy: policyDocument([
          {
            Sid: "AlarmsAndEvents",
            Principal: { Service: ["cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"] },
            Action: ["sns:Publish"],
            Resource: [topic.arn],
            Condition: { StringEquals: { "aws:SourceAccount": p.accountId } },
          },
        ]),
      });
    }
    if (s.alarmEmail) new SnsTopicSubscription(this, "email", { topicArn: this.topic.arn, protocol: "email", endpoint: s.alarmEmail });
    const ticketEmail = s.ticketEmail ?? s.alarmEmail;
    if (ticketEmail) new SnsTopicSubscription(this, "ticket-email", { topicArn: this.ticketTopic.arn, protocol: "email", endpoint: ticketEmail });
    if (s.alarmSlackChannel) {
      // Both topics into the ops channel through the bot itself (bot/ops-alerts.ts).
      for (const [id, topic] of [["page", this.topic], ["ticket", this.ticketTopic]] as const) {
        new SnsTopicSubscription(this, `${id}-slack`, { topicArn: topic.arn, protocol: "lambda", endpoint: p.bot.function.arn });
        new LambdaPermission(this, `${id}-slack-invoke`, {
          statementId: `AllowAlarms-${id}`,
          action: "lambda:InvokeFunction",
          functionName: p.bot.function.functionName,
          principal: "sns.amazonaws.com",
          sourceArn: topic.arn,
        });
      }
    }

    // Every alarm fires on one occurrence in a 5-minute period (unless it says otherwise) and
    // notifies its severity's topic both ways.
    const common = {
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    };
    const to = (severity: Severity) => {
      const arn = severity === "page" ? this.topic.arn : this.ticketTopic.arn;
      return { alarmActions: [arn], okActions: [arn] };
    };
    const alarm = (
      id: string,
      severity: Severity,
      cfg: { description: string; namespace: string; metricName: string; dimensions?: Record<string, string>; statistic: string; threshold?: number; evaluationPeriods?: number; treatMissingData?: string; comparisonOperator?: string },
    ) =>
      new CloudwatchMetricAlarm(this, id, {
        ...common,
        ...to(severity),
        ...(cfg.threshold !== undefined ? { threshold: cfg.threshold } : {}),
        ...(cfg.evaluationPeriods !== undefined ? { evaluationPeriods: cfg.evaluationPeriods } : {}),
        ...(cfg.treatMissingData !== undefined ? { treatMissingData: cfg.treatMissingData } : {}),
        ...(cfg.comparisonOperator !== undefined ? { comparisonOperator: cfg.comparisonOperator } : {}),
        alarmName: name(id),
        alarmDescription: `[${severity}] ${cfg.description}`,
        namespace: cfg.namespace,
        metricName: cfg.metricName,
        ...(cfg.dimensions ? { dimensions: cfg.dimensions } : {}),
        statistic: cfg.statistic,
        period: 300,
      });
    // Metrics from log lines (pino JSON): a FAILED repository ends its Batch child SUCCEEDED, so
    // only the runner's "repository finished" line (and the watchdog's) tells.
    const namespace = `CodyBatch/${s.env}`;
    const logMetric = (id: string, logGroupName: string, pattern: string, metricName: string, value = "1") =>
      new CloudwatchLogMetricFilter(this, id, { name: name(id), logGroupName, pattern, metricTransformation: { name: metricName, namespace, value, ...(value === "1" ? { defaultValue: "0" } : {}) } });
    logMetric("failed-repositories-runner", p.runner.logGroup.name, `{ $.msg = "repository finished" && $.status = "FAILED" }`, "FailedRepositories");
    logMetric("failed-repositories-watchdog", p.bot.logGroup.name, `{ $.msg = "watchdog failed a repository" }`, "FailedRepositories");
    logMetric("watchdog-errors-log", p.bot.logGroup.name, `{ $.msg = "watchdog pass failed" }`, "WatchdogErrors");
    logMetric("finished-repositories", p.runner.logGroup.name, `{ $.msg = "repository finished" }`, "FinishedRepositories");
    // The watchdog's heartbeat: one line per pass, idle ones too (core/watchdog.ts).
    logMetric("watchdog-passes", p.bot.logGroup.name, `{ $.msg = "watchdog pass finished" }`, "WatchdogPasses");
    logMetric("queued-minutes", p.bot.logGroup.name, `{ $.msg = "watchdog found a queued job" }`, "QueuedMinutes", "$.queuedMinutes");
    alarm("failed-repositories", "ticket", {
      description: "Repositories ended FAILED (expired GitHub token, Anthropic key, push rejected, crashes): see cody status and the runner logs",
      namespace,
      metricName: "FailedRepositories",
      statistic: "Sum",
    });
    alarm("watchdog-errors", "ticket", { description: "A scheduled watchdog pass failed (see the bot's log group)", namespace, metricName: "WatchdogErrors", statistic: "Sum" });
    alarm("api-5xx", "page", {
      description: "The bot's HTTP API answered 5XX (Lambda errors, timeouts): see the access logs",
      namespace: "AWS/ApiGateway",
      metricName: "5xx",
      dimensions: { ApiId: p.bot.api.id },
      statistic: "Sum",
    });
    const fn = { FunctionName: p.bot.function.functionName };
    alarm("bot-errors", "page", { description: "The Slack bot Lambda failed (see its log group)", namespace: "AWS/Lambda", metricName: "Errors", dimensions: fn, statistic: "Sum" });
    alarm("bot-throttles", "page", { description: "The Slack bot Lambda was throttled", namespace: "AWS/Lambda", metricName: "Throttles", dimensions: fn, statistic: "Sum" });
    alarm("bot-dead-letters", "ticket", {
      description: "Asynchronous bot invocations failed and wait in the dead-letter queue",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: p.bot.deadLetters.name },
      statistic: "Maximum",
    });
    alarm("bot-duration", "page", {
      description: `A bot invocation ran longer than 80 % of its ${BOT_TIMEOUT_MS / 1000} s timeout (a chunk or a pass about to be killed)`,
      namespace: "AWS/Lambda",
      metricName: "Duration",
      dimensions: fn,
      statistic: "Maximum",
      threshold: BOT_TIMEOUT_MS * 0.8,
      comparisonOperator: "GreaterThanThreshold",
    });
    alarm("queued-too-long", "page", {
      description: `A job has waited in the Batch queue (RUNNABLE) longer than ${s.queuedPageMinutes} minutes: compute environment, BATCH_MAX_VCPUS, Fargate quota (OPERATIONS.md "Jobs stay PENDING")`,
      namespace,
      metricName: "QueuedMinutes",
      statistic: "Maximum",
      threshold: s.queuedPageMinutes,
      comparisonOperator: "GreaterThanThreshold",
    });
    if (s.watchdogEnabled) {
      // Missing data is breaching: no "watchdog pass finished" line in two periods means it does not run.
      alarm("watchdog-missing", "page", {
        description: "The watchdog has not run for two 5-minute periods (schedule disabled, bot failing before the pass)",
        namespace,
        metricName: "WatchdogPasses",
        statistic: "Sum",
        threshold: 1,
        comparisonOperator: "LessThanThreshold",
        evaluationPeriods: 2,
        treatMissingData: "breaching",
      });
    }
    new CloudwatchMetricAlarm(this, "failure-rate", {
      ...common,
      ...to("page"),
      alarmName: name("failure-rate"),
      alarmDescription: `[page] More than ${s.failureRatePagePercent} % of the repositories that finished in 15 minutes FAILED (at least 10 finished): a job-level failure, not one repository`,
      threshold: s.failureRatePagePercent,
      comparisonOperator: "GreaterThanThreshold",
      metricQuery: [
        { id: "failed", metric: { namespace, metricName: "FailedRepositories", period: 900, stat: "Sum" } },
        { id: "finished", metric: { namespace, metricName: "FinishedRepositories", period: 900, stat: "Sum" } },
        { id: "rate", expression: "IF(finished >= 10, 100 * failed / finished, 0)", label: "failed %", returnData: true },
      ],
    });
    for (const [id, table] of [["jobs", p.storage.jobsTable], ["repositories", p.storage.reposTable]] as const) {
      new CloudwatchMetricAlarm(this, `${id}-throttles`, {
        ...common,
        ...to("ticket"),
        alarmName: name(`${id}-throttles`),
        alarmDescription: `[ticket] DynamoDB throttled requests on ${table.name}`,
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
      arn: this.ticketTopic.arn,
      inputTransformer: {
        inputPaths: { job: "$.detail.jobName", id: "$.detail.jobId", reason: "$.detail.statusReason" },
        inputTemplate: '"Cody Batch job <job> (<id>) failed: <reason>"',
      },
    });
    // A job queue blocked (a job at its head can never run: no compute environment fits it) pages.
    const blocked = new CloudwatchEventRule(this, "queue-blocked", {
      name: name("queue-blocked"),
      description: "The Cody Batch job queue is blocked: a RUNNABLE job cannot run on its compute environment",
      eventPattern: JSON.stringify({ source: ["aws.batch"], "detail-type": ["Batch Job Queue Blocked"], detail: { jobQueue: [p.runner.queue.arn] } }),
    });
    new CloudwatchEventTarget(this, "queue-blocked-target", {
      rule: blocked.name,
      arn: this.topic.arn,
      inputTransformer: { inputPaths: { job: "$.detail.jobName", reason: "$.detail.statusReason" }, inputTemplate: '"[page] Cody Batch queue blocked at job <job>: <reason>"' },
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
        { comparisonOperator: "GREATER_THAN", threshold: 80, thresholdType: "PERCENTAGE", notificationType: "ACTUAL", subscriberSnsTopicArns: [this.ticketTopic.arn] },
        { comparisonOperator: "GREATER_THAN", threshold: 100, thresholdType: "PERCENTAGE", notificationType: "FORECASTED", subscriberSnsTopicArns: [this.ticketTopic.arn] },
      ],
    });
  }
}
