/**
 * The Slack-facing bot: a Node.js 22 arm64 Lambda running dist/lambda/bot.mjs (`make build`),
 * reachable through an HTTP API (`POST /slack/events`, `GET /health`, `GET /links/{token}`: stable
 * artifact links, `GET /jobs/{token}` and `GET /jobs/assets/{file}`: the job pages, BOT_PUBLIC_URL of the bot and the runners), with access logs. It may invoke itself
 * asynchronously (long work after Slack's 3-second acknowledgement); failed asynchronous
 * invocations land in an SQS dead-letter queue.
 *
 * Why an HTTP API and not a Function URL: since October 2025 a public Function URL needs a
 * `lambda:InvokeFunction` grant to everyone, which the pinned provider cannot restrict to URL
 * calls; the HTTP API's grant names the API as the only source. Both send the same 2.0 event.
 */
import { Apigatewayv2Api } from "@cdktf/provider-aws/lib/apigatewayv2-api/index.js";
import { Apigatewayv2Integration } from "@cdktf/provider-aws/lib/apigatewayv2-integration/index.js";
import { Apigatewayv2Route } from "@cdktf/provider-aws/lib/apigatewayv2-route/index.js";
import { Apigatewayv2Stage } from "@cdktf/provider-aws/lib/apigatewayv2-stage/index.js";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target/index.js";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group/index.js";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function/index.js";
import { LambdaFunctionEventInvokeConfig } from "@cdktf/provider-aws/lib/lambda-function-event-invoke-config/index.js";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission/index.js";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue/index.js";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { serviceRole } from "./policy.ts";
import type { Runner } from "./runner.ts";
import type { Secrets } from "./secrets.ts";
import { resourceName, stackTag, type StackSettings } from "./settings.ts";
import type { Storage } from "./storage.ts";

export type BotProps = {
  settings: StackSettings;
  storage: Storage;
  secrets: Secrets;
  runner: Runner;
  accountId: string;
  partition: string;
};

export class Bot extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: CloudwatchLogGroup;
  readonly deadLetters: SqsQueue;
  readonly api: Apigatewayv2Api;
  readonly accessLogs: CloudwatchLogGroup;
  /** The URL to put into the Slack app manifest. */
  readonly eventsUrl: string;
  /** The API's base URL (BOT_PUBLIC_URL): stable links are `${publicUrl}/links/<token>`. */
  readonly publicUrl: string;
  readonly watchdog: CloudwatchEventRule;

  constructor(scope: Construct, id: string, p: BotProps) {
    super(scope, id);
    const s = p.settings;
    const functionName = resourceName(s, "bot");
    const functionArn = `arn:${p.partition}:lambda:${s.region}:${p.accountId}:function:${functionName}`;
    const batchArn = (rest: string) => `arn:${p.partition}:batch:${s.region}:${p.accountId}:${rest}`;

    this.logGroup = new CloudwatchLogGroup(this, "logs", { name: `/aws/lambda/${functionName}`, retentionInDays: s.logRetentionDays });
    this.deadLetters = new SqsQueue(this, "dead-letters", {
      name: resourceName(s, "bot-dead-letters"),
      messageRetentionSeconds: 14 * 24 * 3600,
      sqsManagedSseEnabled: true,
    });

    const botSecrets = p.secrets.for("bot");
    const tag = stackTag(s);
    const role = serviceRole(this, "role", {
      name: resourceName(s, "bot"),
      service: "lambda.amazonaws.com",
      sourceAccount: p.accountId,
      statements: [
        { Sid: "WriteLogs", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${this.logGroup.arn}:*`] },
        {
          Sid: "Tables",
          Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem", "dynamodb:Query"],
          Resource: p.storage.tableArns(),
        },
        // Presigned links are signed with this role, so it needs read access to what it links to.
        { Sid: "ArtifactLinks", Action: ["s3:GetObject"], Resource: [`${p.storage.bucket.arn}/*`] },
        {
          Sid: "SubmitJobs",
          Action: ["batch:SubmitJob"],
          Resource: [p.runner.queue.arn, p.runner.jobDefinition.arnPrefix, `${p.runner.jobDefinition.arnPrefix}:*`],
        },
        // Job ids are only known at run time. The bot tags its submissions with the stack's tag and
        // may cancel only jobs carrying it; array children cannot carry tags (AWS Batch), and a
        // cancel terminates running children, so TerminateJob covers every job of this account
        // and region (OPERATIONS.md "Known limits").
        { Sid: "TagOnSubmit", Action: ["batch:TagResource"], Resource: [batchArn("job/*")], Condition: { StringEquals: { [`aws:RequestTag/${tag.key}`]: tag.value } } },
        { Sid: "CancelOwnJobs", Action: ["batch:CancelJob"], Resource: [batchArn("job/*")], Condition: { StringEquals: { [`aws:ResourceTag/${tag.key}`]: tag.value } } },
        { Sid: "TerminateJobs", Action: ["batch:TerminateJob"], Resource: [batchArn("job/*")] },
        // batch:DescribeJobs and batch:ListJobs support no resource-level permissions: AWS accepts only "*".
        { Sid: "ReadJobs", Action: ["batch:DescribeJobs", "batch:ListJobs"], Resource: ["*"] },
        { Sid: "ReadSecrets", Action: ["secretsmanager:GetSecretValue"], Resource: botSecrets.map((u) => u.secret.arn) },
        { Sid: "InvokeSelf", Action: ["lambda:InvokeFunction"], Resource: [functionArn] },
        { Sid: "DeadLetters", Action: ["sqs:SendMessage"], Resource: [this.deadLetters.arn] },
      ],
    });

    // Created before the function: the function's BOT_PUBLIC_URL is the API's endpoint.
    this.api = new Apigatewayv2Api(this, "api", { name: resourceName(s, "bot"), protocolType: "HTTP" });
    this.publicUrl = this.api.apiEndpoint;
    const bundle = new TerraformAsset(this, "bundle", { path: s.botBundleDir, type: AssetType.ARCHIVE });
    const environment: Record<string, string | undefined> = {
      CODY_ENV: s.env,
      LAUNCHER: "batch",
      DYNAMODB_JOBS_TABLE: p.storage.jobsTable.name,
      DYNAMODB_REPOSITORIES_TABLE: p.storage.reposTable.name,
      ARTIFACTS_BUCKET: p.storage.bucket.bucket,
      AWS_BATCH_JOB_QUEUE: p.runner.queue.arn,
      AWS_BATCH_JOB_DEFINITION: p.runner.jobDefinition.arn,
      BOT_PUBLIC_URL: this.publicUrl,
      ALLOWED_REPOSITORIES: s.allowedRepositories || undefined,
      ALLOWED_SLACK_USERS: s.allowedSlackUsers,
      ALLOWED_SCRIPT_USERS: s.allowedScriptUsers,
      ALLOWED_SLACK_TEAMS: s.allowedSlackTeams,
      GITHUB_API_URL: s.githubApiUrl,
      GITHUB_APP_ID: s.githubAuth === "app" ? s.githubAppId : undefined,
      GITHUB_APP_INSTALLATION_ID: s.githubAuth === "app" ? s.githubAppInstallationId : undefined,
      LOG_LEVEL: s.logLevel,
      // The watchdog's view of the runners: how many attempts Batch makes per repository.
      MAX_ATTEMPTS: String(s.runnerAttempts),
      NODE_OPTIONS: "--enable-source-maps",
      // Only where to find each secret; core/secrets/secrets.ts reads the values once per cold start.
      ...Object.fromEntries(botSecrets.map((u) => [`${u.variable}_SECRET_ARN`, u.secret.arn])),
    };
    this.function = new LambdaFunction(this, "function", {
      functionName,
      description: "Cody Batch Slack bot",
      role: role.arn,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: "bot.handler",
      filename: bundle.path,
      sourceCodeHash: bundle.assetHash,
      memorySize: 1024,
      timeout: 300,
      environment: { variables: Object.fromEntries(Object.entries(environment).filter((e): e is [string, string] => e[1] !== undefined)) },
      loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
      dependsOn: [this.logGroup],
    });
    new LambdaFunctionEventInvokeConfig(this, "async", {
      functionName: this.function.functionName,
      maximumRetryAttempts: 0, // a retried job start would post twice; failures go to the queue instead
      maximumEventAgeInSeconds: 3600,
      destinationConfig: { onFailure: { destination: this.deadLetters.arn } },
    });

    const integration = new Apigatewayv2Integration(this, "integration", {
      apiId: this.api.id,
      integrationType: "AWS_PROXY",
      integrationUri: this.function.arn,
      payloadFormatVersion: "2.0",
      timeoutMilliseconds: 29_000,
    });
    // Construct ids of the first two routes kept as they were (no replacement on update).
    // The job pages (bot/web/): `{token}` is one whole path segment, so it also matches `<token>.json`.
    const routes = [
      ["route-post", "POST /slack/events"],
      ["route-get", "GET /health"],
      ["route-links", "GET /links/{token}"],
      ["route-jobs", "GET /jobs/{token}"],
      ["route-job-assets", "GET /jobs/assets/{file}"],
    ] as const;
    for (const [id, routeKey] of routes) {
      new Apigatewayv2Route(this, id, { apiId: this.api.id, routeKey, target: `integrations/${integration.id}` });
    }
    this.accessLogs = new CloudwatchLogGroup(this, "access-logs", { name: `/aws/apigateway/${resourceName(s, "bot")}`, retentionInDays: s.logRetentionDays });
    new Apigatewayv2Stage(this, "stage", {
      apiId: this.api.id,
      name: "$default",
      autoDeploy: true,
      defaultRouteSettings: { throttlingBurstLimit: 50, throttlingRateLimit: 20 },
      // One JSON line per request; no headers or bodies (Slack signatures, tokens) are logged.
      accessLogSettings: {
        destinationArn: this.accessLogs.arn,
        format: JSON.stringify({
          requestId: "$context.requestId",
          time: "$context.requestTime",
          routeKey: "$context.routeKey",
          status: "$context.status",
          latencyMs: "$context.responseLatency",
          integrationStatus: "$context.integrationStatus",
          integrationError: "$context.integrationErrorMessage",
          sourceIp: "$context.identity.sourceIp",
        }),
      },
    });
    new LambdaPermission(this, "api-invoke", {
      statementId: "AllowHttpApi",
      action: "lambda:InvokeFunction",
      functionName: this.function.functionName,
      principal: "apigateway.amazonaws.com",
      sourceArn: `${this.api.executionArn}/*/*`,
    });
    this.eventsUrl = `${this.api.apiEndpoint}/slack/events`;

    // The watchdog (core/launch/watchdog.ts): every 5 minutes the bot fails repositories whose runner
    // is gone and finalizes jobs with nothing left running.
    // Disabled until every secret holds a value (each cold start would fail before): make deploy
    // enables it once they do (WATCHDOG_ENABLED, OPERATIONS.md "Secrets").
    const watchdog = new CloudwatchEventRule(this, "watchdog", {
      name: resourceName(s, "watchdog"),
      description: "Cody Batch watchdog: fail repositories whose runner stopped, finalize stuck jobs",
      scheduleExpression: "rate(5 minutes)",
      state: s.watchdogEnabled ? "ENABLED" : "DISABLED",
    });
    this.watchdog = watchdog;
    new CloudwatchEventTarget(this, "watchdog-target", { rule: watchdog.name, targetId: "bot", arn: this.function.arn });
    new LambdaPermission(this, "watchdog-invoke", {
      statementId: "AllowWatchdogSchedule",
      action: "lambda:InvokeFunction",
      functionName: this.function.functionName,
      principal: "events.amazonaws.com",
      sourceArn: watchdog.arn,
    });
  }
}
