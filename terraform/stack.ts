/**
 * The Cody Batch stack for one environment (`cody-batch-<env>`): provider, state backend,
 * storage, secrets, runner (ECR + Batch), bot (Lambda + HTTP API), alarms, outputs.
 */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity/index.js";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition/index.js";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider/index.js";
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { Alarms } from "./alarms.ts";
import { Backup } from "./backup.ts";
import { Observability } from "./observability.ts";
import { Bot } from "./bot.ts";
import { Runner } from "./runner.ts";
import { Secrets } from "./secrets.ts";
import { stackTag, type StackSettings } from "./settings.ts";
import { Storage } from "./storage.ts";
import versions from "./versions.json" with { type: "json" };

export class CodyStack extends TerraformStack {
  constructor(scope: Construct, id: string, s: StackSettings) {
    super(scope, id);
    new AwsProvider(this, "aws", {
      region: s.region,
      defaultTags: [{ tags: { Project: "cody-batch", Environment: s.env, ManagedBy: "cdktf", [stackTag(s).key]: stackTag(s).value } }],
    });
    // The one place versions are pinned: terraform/versions.json (the offline check reads it too).
    this.addOverride("terraform.required_version", versions.terraform);
    this.addOverride("terraform.required_providers.aws", { source: versions.aws.source, version: versions.aws.version });
    if (s.state) {
      const backend = new S3Backend(this, {
        bucket: s.state.bucket,
        key: `cody-batch/${s.env}/terraform.tfstate`,
        region: s.state.region,
        encrypt: true,
        ...(s.state.lockTable ? { dynamodbTable: s.state.lockTable } : {}),
      });
      // S3-native locking (Terraform ≥ 1.10) unless a DynamoDB lock table was named.
      if (!s.state.lockTable) backend.addOverride("use_lockfile", true);
    } else {
      new LocalBackend(this, s.localStateFile ? { path: s.localStateFile } : {});
    }

    const accountId = new DataAwsCallerIdentity(this, "account").accountId;
    const partition = new DataAwsPartition(this, "partition").partition;

    const storage = new Storage(this, "storage", s, accountId);
    const secrets = new Secrets(this, "secrets", s);
    let bot: Bot | undefined;
    const runner = new Runner(this, "runner", { settings: s, storage, secrets, accountId, botPublicUrl: () => bot!.publicUrl });
    bot = new Bot(this, "bot", { settings: s, storage, secrets, runner, accountId, partition });
    const alarms = new Alarms(this, "alarms", { settings: s, storage, runner, bot, accountId });
    const observability = new Observability(this, "observability", { settings: s, bot, runner });
    const backup = new Backup(this, "backup", { settings: s, storage, partition });

    const out = (id: string, value: string, description: string) => new TerraformOutput(this, id, { value, description });
    out("bot_url", bot.eventsUrl, "Slack request URL: put it into bot/manifest.yml (slash command, interactivity)");
    out("bot_public_url", bot.publicUrl, "BOT_PUBLIC_URL of the bot and the runners (stable links)");
    out("watchdog_rule", bot.watchdog.name, "EventBridge schedule of the watchdog (kill switch: aws events disable-rule)");
    out("api_access_log_group", bot.accessLogs.name, "the HTTP API's access logs");
    out("region", s.region, "AWS region of the stack");
    out("bot_function", bot.function.functionName, "the bot Lambda");
    out("bot_log_group", bot.logGroup.name, "the bot's logs");
    out("bot_dead_letter_queue", bot.deadLetters.url, "failed asynchronous bot invocations");
    out("jobs_table", storage.jobsTable.name, "DynamoDB jobs table");
    out("repositories_table", storage.reposTable.name, "DynamoDB repositories table");
    out("artifacts_bucket", storage.bucket.bucket, "S3 bucket for diffs and transcripts");
    out("job_queue", runner.queue.name, "AWS Batch job queue");
    out("job_definition", runner.jobDefinition.arn, "AWS Batch job definition (with revision)");
    out("runner_repository_url", runner.repository.repositoryUrl, "ECR repository of the runner image");
    out("runner_log_group", runner.logGroup.name, "the runners' logs");
    out("alarm_topic", alarms.topic.arn, "SNS topic of the page alarms (wake someone)");
    out("ticket_topic", alarms.ticketTopic.arn, "SNS topic of the ticket alarms (next working day)");
    out("dashboard", observability.dashboard.dashboardName, "CloudWatch dashboard of the stack");
    out("backup_vault", backup.vault.name, "AWS Backup vault of the tables' daily backups");
    out("backup_role", backup.role.arn, "role for aws backup start-backup-job / start-restore-job");
    for (const u of secrets.all) {
      out(`secret_${u.variable.toLowerCase()}`, u.secret.arn, `${u.variable}: set with aws secretsmanager put-secret-value --secret-id ${u.secret.name}`);
    }
  }
}
