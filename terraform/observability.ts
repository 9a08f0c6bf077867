/**
 * What an operator looks at (issue 23): one CloudWatch dashboard (`cody-batch-<env>`: jobs and
 * repositories by outcome, the Batch queue as the watchdog sees it, the bot Lambda, the HTTP API,
 * Slack and GitHub throttling, Claude tokens and cost) and saved CloudWatch Logs Insights queries
 * under `cody-batch-<env>/` (cold starts, durations, failures by reason, rate limits, one job's
 * story). Metrics from logs come from metric filters on the pino JSON lines (terraform/alarms.ts
 * and here).
 */
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard/index.js";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter/index.js";
import { CloudwatchQueryDefinition } from "@cdktf/provider-aws/lib/cloudwatch-query-definition/index.js";
import { Construct } from "constructs";
import type { Bot } from "./bot.ts";
import type { Runner } from "./runner.ts";
import { resourceName, type StackSettings } from "./settings.ts";

/** The saved Logs Insights queries: name → [log groups, query]. */
export function savedQueries(bot: string, runner: string): Record<string, [string[], string]> {
  return {
    "cold-starts": [[bot], 'filter @type = "REPORT" and ispresent(@initDuration)\n| stats count() as coldStarts, avg(@initDuration) as avgInitMs, max(@initDuration) as maxInitMs by bin(1h)'],
    "bot-duration": [[bot], 'filter @type = "REPORT"\n| stats avg(@duration) as avgMs, pct(@duration, 99) as p99Ms, max(@duration) as maxMs, max(@maxMemoryUsed / 1000 / 1000) as maxMemoryMB by bin(15m)'],
    "failures-by-reason": [[runner, bot], 'filter (msg = "repository finished" and status = "FAILED") or msg = "watchdog failed a repository"\n| stats count() as repositories by coalesce(reason, error) as why\n| sort repositories desc'],
    "rate-limits": [[bot, runner], 'filter msg like /rate limit/ or err.code = "slack_webapi_rate_limited_error" or status = 429\n| stats count() by msg, bin(15m)'],
    "job-story": [[bot, runner], 'filter jobId = "REPLACE_WITH_JOB_ID"\n| sort @timestamp asc\n| fields @timestamp, program, level, msg, repo, status, reason, step'],
    "watchdog": [[bot], 'filter msg like /watchdog/\n| fields @timestamp, msg, jobs, failed, jobId, queued, queuedMinutes, reason\n| sort @timestamp desc'],
    "claude-cost": [[runner], 'filter msg = "repository finished" and ispresent(costUsd)\n| stats sum(costUsd) as usd, sum(usage.inputTokens) as inputTokens, sum(usage.outputTokens) as outputTokens by bin(1d)'],
  };
}

export class Observability extends Construct {
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, p: { settings: StackSettings; bot: Bot; runner: Runner }) {
    super(scope, id);
    const s = p.settings;
    const namespace = `CodyBatch/${s.env}`;
    const metric = (fid: string, logGroupName: string, pattern: string, metricName: string, value: string) =>
      new CloudwatchLogMetricFilter(this, fid, { name: resourceName(s, fid), logGroupName, pattern, metricTransformation: { name: metricName, namespace, value } });
    metric("claude-cost", p.runner.logGroup.name, '{ $.msg = "repository finished" && $.costUsd = * }', "ClaudeCostUsd", "$.costUsd");
    metric("claude-output-tokens", p.runner.logGroup.name, '{ $.msg = "repository finished" && $.usage.outputTokens = * }', "ClaudeOutputTokens", "$.usage.outputTokens");
    metric("claude-input-tokens", p.runner.logGroup.name, '{ $.msg = "repository finished" && $.usage.inputTokens = * }', "ClaudeInputTokens", "$.usage.inputTokens");
    metric("github-rate-limits", p.bot.logGroup.name, '{ $.msg = "github rate limit hit" }', "GitHubRateLimits", "1");
    metric("github-rate-limits-runner", p.runner.logGroup.name, '{ $.msg = "github rate limit hit" }', "GitHubRateLimits", "1");
    metric("completed-repositories", p.runner.logGroup.name, '{ $.msg = "repository finished" && $.status = "COMPLETED" }', "CompletedRepositories", "1");

    const region = s.region;
    const fn = p.bot.function.functionName;
    const graph = (title: string, metrics: unknown[][], x: number, y: number, extra: Record<string, unknown> = {}) => ({
      type: "metric",
      x,
      y,
      width: 8,
      height: 6,
      properties: { title, region, view: "timeSeries", stat: "Sum", period: 300, metrics, ...extra },
    });
    const body = {
      widgets: [
        graph("Repositories by outcome", [[namespace, "CompletedRepositories"], [namespace, "FailedRepositories"], [namespace, "FinishedRepositories"]], 0, 0),
        graph("Batch queue (watchdog): longest wait, minutes", [[namespace, "QueuedMinutes", { stat: "Maximum" }]], 8, 0),
        graph("Watchdog passes (heartbeat) and errors", [[namespace, "WatchdogPasses"], [namespace, "WatchdogErrors"]], 16, 0),
        graph("Bot Lambda", [["AWS/Lambda", "Invocations", "FunctionName", fn], ["AWS/Lambda", "Errors", "FunctionName", fn], ["AWS/Lambda", "Throttles", "FunctionName", fn]], 0, 6),
        graph("Bot duration (ms; limit 300000)", [["AWS/Lambda", "Duration", "FunctionName", fn, { stat: "p99" }], ["AWS/Lambda", "Duration", "FunctionName", fn, { stat: "Maximum" }]], 8, 6),
        graph("HTTP API", [["AWS/ApiGateway", "Count", "ApiId", p.bot.api.id], ["AWS/ApiGateway", "4xx", "ApiId", p.bot.api.id], ["AWS/ApiGateway", "5xx", "ApiId", p.bot.api.id]], 16, 6),
        graph("GitHub rate limits hit", [[namespace, "GitHubRateLimits"]], 0, 12),
        graph("Claude tokens", [[namespace, "ClaudeInputTokens"], [namespace, "ClaudeOutputTokens"]], 8, 12),
        graph("Claude cost (USD)", [[namespace, "ClaudeCostUsd"]], 16, 12),
        {
          type: "log",
          x: 0,
          y: 18,
          width: 24,
          height: 6,
          properties: {
            title: "Slack and GitHub throttling (log lines)",
            region,
            view: "table",
            query: `SOURCE '${p.bot.logGroup.name}' | SOURCE '${p.runner.logGroup.name}' | ${savedQueries("", "")["rate-limits"]![1].replace(/\n/g, " ")}`,
          },
        },
      ],
    };
    this.dashboard = new CloudwatchDashboard(this, "dashboard", { dashboardName: resourceName(s, "operations"), dashboardBody: JSON.stringify(body) });

    for (const [qname, [groups, query]] of Object.entries(savedQueries(p.bot.logGroup.name, p.runner.logGroup.name))) {
      new CloudwatchQueryDefinition(this, `query-${qname}`, { name: `cody-batch-${s.env}/${qname}`, logGroupNames: groups, queryString: query });
    }
  }
}
