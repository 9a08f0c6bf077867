/**
 * The runner side: ECR repository for the image, network for Fargate tasks, AWS Batch compute
 * environment, job queue and job definition, the runner's log group and its two roles
 * (execution role: pull image, write logs, read secrets; job role: tables and bucket).
 */
import { BatchComputeEnvironment } from "@cdktf/provider-aws/lib/batch-compute-environment/index.js";
import { BatchJobDefinition } from "@cdktf/provider-aws/lib/batch-job-definition/index.js";
import { BatchJobQueue } from "@cdktf/provider-aws/lib/batch-job-queue/index.js";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group/index.js";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet/index.js";
import { DataAwsSubnets } from "@cdktf/provider-aws/lib/data-aws-subnets/index.js";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc/index.js";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy/index.js";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository/index.js";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role/index.js";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group/index.js";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js";
import { Lazy } from "cdktf";
import { Construct } from "constructs";
import { CANCEL_REASON_PREFIX } from "../core/launch/index.ts";
import { serviceRole } from "./policy.ts";
import type { Secrets } from "./secrets.ts";
import { resourceName, type StackSettings } from "./settings.ts";
import type { Storage } from "./storage.ts";

export type RunnerProps = {
  settings: StackSettings;
  storage: Storage;
  secrets: Secrets;
  accountId: string;
  /** The bot's public base URL (BOT_PUBLIC_URL: stable links); read at synth time, as the bot is built after the runner. */
  botPublicUrl: () => string;
};

/**
 * Retry strategy. The runner exits 0 whenever its repository reached a terminal status, even
 * FAILED (a repository's own failure never reaches these rules: the job SUCCEEDED), and
 * non-zero only when the runner itself broke. First match wins; an exit that matches no rule
 * would be retried, hence the final `*`.
 */
export const RETRY_RULES = [
  // Our own cancellation (TerminateJob/CancelJob reason): never retry.
  { action: "EXIT", onStatusReason: `${CANCEL_REASON_PREFIX}*` },
  // Exit 2: bad configuration (ConfigError); another attempt cannot fix it.
  { action: "EXIT", onExitCode: "2" },
  // Any other exit code: the runner crashed or was killed (137 = out of memory) — retry.
  { action: "RETRY", onExitCode: "*" },
  // Fargate could not start the task (ENI, image pull, secrets fetch): infrastructure — retry.
  { action: "RETRY", onStatusReason: "ResourceInitializationError*" },
  // Anything else (e.g. attempt timeout, task stopped by an operator): give up.
  { action: "EXIT", onStatusReason: "*" },
];

export class Runner extends Construct {
  readonly repository: EcrRepository;
  readonly logGroup: CloudwatchLogGroup;
  readonly queue: BatchJobQueue;
  readonly jobDefinition: BatchJobDefinition;
  readonly executionRole: IamRole;
  readonly jobRole: IamRole;

  constructor(scope: Construct, id: string, p: RunnerProps) {
    super(scope, id);
    const s = p.settings;
    const name = (n: string) => resourceName(s, n);

    this.repository = new EcrRepository(this, "repository", {
      name: name("runner"),
      imageTagMutability: "IMMUTABLE", // tags are git SHAs: a tag always means the same image
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: "AES256" }],
      forceDelete: s.env === "dev",
    });
    new EcrLifecyclePolicy(this, "repository-lifecycle", {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `keep the last ${s.keepImages} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: s.keepImages },
            action: { type: "expire" },
          },
        ],
      }),
    });

    this.logGroup = new CloudwatchLogGroup(this, "logs", { name: `/aws/batch/${name("runner")}`, retentionInDays: s.logRetentionDays });

    const { subnets, securityGroups } = this.network(s);

    const runnerSecrets = p.secrets.for("runner");
    // Injected at task start (the task fails when one is empty) vs read by the runner itself (may be empty).
    const injected = runnerSecrets.filter((u) => !u.optional);
    const byArn = runnerSecrets.filter((u) => u.optional);
    this.executionRole = serviceRole(this, "execution-role", {
      name: name("runner-execution"),
      service: "ecs-tasks.amazonaws.com",
      sourceAccount: p.accountId,
      statements: [
        // ecr:GetAuthorizationToken has no resource-level permissions: AWS accepts only "*".
        { Sid: "EcrLogin", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
        { Sid: "PullImage", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: [this.repository.arn] },
        { Sid: "WriteLogs", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${this.logGroup.arn}:*`] },
        { Sid: "InjectSecrets", Action: ["secretsmanager:GetSecretValue"], Resource: injected.map((u) => u.secret.arn) },
      ],
    });
    this.jobRole = serviceRole(this, "job-role", {
      name: name("runner-job"),
      service: "ecs-tasks.amazonaws.com",
      sourceAccount: p.accountId,
      statements: [
        {
          Sid: "Tables",
          Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem", "dynamodb:Query"],
          Resource: p.storage.tableArns(),
        },
        { Sid: "Artifacts", Action: ["s3:PutObject", "s3:GetObject"], Resource: [`${p.storage.bucket.arn}/*`] },
        { Sid: "OptionalSecrets", Action: ["secretsmanager:GetSecretValue"], Resource: byArn.map((u) => u.secret.arn) },
      ],
    });

    const compute = new BatchComputeEnvironment(this, "compute", {
      name: name("fargate"),
      type: "MANAGED",
      state: "ENABLED",
      computeResources: { type: "FARGATE", maxVcpus: s.maxVcpus, subnets, securityGroupIds: securityGroups },
    });
    this.queue = new BatchJobQueue(this, "queue", {
      name: name("queue"),
      state: "ENABLED",
      priority: 1,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: compute.arn }],
    });

    const environment: Record<string, string | undefined> = {
      CODY_ENV: s.env,
      AWS_REGION: s.region,
      DYNAMODB_JOBS_TABLE: p.storage.jobsTable.name,
      DYNAMODB_REPOSITORIES_TABLE: p.storage.reposTable.name,
      ARTIFACTS_BUCKET: p.storage.bucket.bucket,
      ALLOWED_REPOSITORIES: s.allowedRepositories || undefined,
      LOG_LEVEL: s.logLevel,
      CLAUDE_MODEL: s.claudeModel,
      GITHUB_API_URL: s.githubApiUrl,
      GITHUB_APP_ID: s.githubAuth === "app" ? s.githubAppId : undefined,
      GITHUB_APP_INSTALLATION_ID: s.githubAuth === "app" ? s.githubAppInstallationId : undefined,
      MAX_ATTEMPTS: String(s.runnerAttempts),
      BOT_PUBLIC_URL: Lazy.stringValue({ produce: () => p.botPublicUrl() }),
      ...Object.fromEntries(byArn.map((u) => [`${u.variable}_SECRET_ARN`, u.secret.arn])),
    };
    this.jobDefinition = new BatchJobDefinition(this, "job-definition", {
      name: name("runner"),
      type: "container",
      platformCapabilities: ["FARGATE"],
      // The job's and the definition's tags (CodyBatchStack, …) reach the Fargate tasks: the budget's cost filter.
      propagateTags: true,
      timeout: { attemptDurationSeconds: s.runnerTimeoutSeconds },
      retryStrategy: { attempts: s.runnerAttempts, evaluateOnExit: RETRY_RULES },
      containerProperties: JSON.stringify({
        image: `${this.repository.repositoryUrl}:${s.runnerImageTag}`,
        jobRoleArn: this.jobRole.arn,
        executionRoleArn: this.executionRole.arn,
        resourceRequirements: [
          { type: "VCPU", value: String(s.runnerVcpu) },
          { type: "MEMORY", value: String(s.runnerMemoryMiB) },
        ],
        environment: Object.entries(environment)
          .filter((e): e is [string, string] => e[1] !== undefined)
          .map(([n, value]) => ({ name: n, value })),
        // Values are fetched by the execution role when the task starts; they never sit in the definition.
        secrets: injected.map((u) => ({ name: u.variable, valueFrom: u.secret.arn })),
        networkConfiguration: { assignPublicIp: s.assignPublicIp ? "ENABLED" : "DISABLED" },
        fargatePlatformConfiguration: { platformVersion: "LATEST" },
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: s.runnerArchitecture },
        // The runner starts as root (the image's user) only to run repository commands as an
        // unprivileged uid; an init process reaps what those commands orphaned once killed.
        linuxParameters: { initProcessEnabled: true },
        logConfiguration: {
          logDriver: "awslogs",
          options: { "awslogs-group": this.logGroup.name, "awslogs-region": s.region, "awslogs-stream-prefix": "runner" },
        },
      }),
    });
  }

  /** Subnets and security groups: given ones, or the default VPC's default subnets and an egress-only group. */
  private network(s: StackSettings): { subnets: string[]; securityGroups: string[] } {
    let vpcId: string;
    let subnets: string[];
    if (s.subnetIds) {
      subnets = s.subnetIds;
      vpcId = new DataAwsSubnet(this, "first-subnet", { id: s.subnetIds[0] }).vpcId;
    } else {
      const vpc = new DataAwsVpc(this, "default-vpc", { default: true });
      vpcId = vpc.id;
      subnets = new DataAwsSubnets(this, "default-subnets", {
        filter: [
          { name: "vpc-id", values: [vpc.id] },
          { name: "default-for-az", values: ["true"] },
        ],
      }).ids;
    }
    if (s.securityGroupIds) return { subnets, securityGroups: s.securityGroupIds };
    const group = new SecurityGroup(this, "tasks", {
      name: resourceName(s, "runner-tasks"),
      description: "Cody Batch runner tasks: no inbound, HTTPS out to GitHub, Slack, Anthropic and AWS",
      vpcId,
    });
    // Separate rule resources: inline egress blocks need every attribute spelled out in JSON.
    for (const [id, cidr] of [["https-ipv4", { cidrIpv4: "0.0.0.0/0" }], ["https-ipv6", { cidrIpv6: "::/0" }]] as const) {
      new VpcSecurityGroupEgressRule(this, `tasks-${id}`, { securityGroupId: group.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, description: "HTTPS", ...cidr });
    }
    return { subnets, securityGroups: [group.id] };
  }
}
