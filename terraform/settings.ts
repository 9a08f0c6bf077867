import { STACK_TAG_KEY, stackTagValue } from "../core/launch/index.ts";

/**
 * Deployment settings: the operator's environment variables, read once by terraform/main.ts,
 * validated, typed. The stack never reads the environment itself, so tests hand in settings.
 * No setting is a secret: secret values go into Secrets Manager (see OPERATIONS.md).
 */

export type GithubAuth = "token" | "app";

export type StackSettings = {
  /** `dev` or `prod`; part of every name: `cody-batch-<env>-<name>`. */
  env: "dev" | "prod";
  region: string;
  /** ALLOWED_REPOSITORIES for the bot and the runner (comma-separated patterns). */
  allowedRepositories: string;
  allowedSlackUsers?: string;
  /** ALLOWED_SCRIPT_USERS and ALLOWED_SLACK_TEAMS for the bot (comma-separated Slack IDs). */
  allowedScriptUsers?: string;
  allowedSlackTeams?: string;
  /** Tag of the runner image in the stack's ECR repository (deploy uses the git SHA). */
  runnerImageTag: string;
  runnerArchitecture: "X86_64" | "ARM64";
  alarmEmail?: string;
  /** Subnets and security groups for Fargate tasks; dev default: the default VPC's default subnets and a new egress-only group (prod requires SUBNET_IDS). */
  subnetIds?: string[];
  securityGroupIds?: string[];
  /** Public IPs for tasks: needed in public subnets (no NAT) to reach GitHub, Slack, Anthropic. */
  assignPublicIp: boolean;
  /** Remote state (S3); required for prod. */
  state?: { bucket: string; region: string; lockTable?: string };
  /** Local state file when no TF_STATE_BUCKET is set (dev only), relative to the stack directory (outside cdktf.out so `make clean` keeps it). */
  localStateFile?: string;
  /** Names of the two tables (default `cody-batch-<env>-jobs` / `-repositories`): a restored table is adopted under its own name (OPERATIONS.md "Restore in place"). */
  jobsTableName: string;
  reposTableName: string;
  /** Whether the watchdog schedule runs: only once every secret holds a value (deploy.sh decides; WATCHDOG_ENABLED). */
  watchdogEnabled: boolean;
  /** Monthly cost budget in USD over the resources tagged `CodyBatchStack=cody-batch-<env>`. */
  budgetUsd: number;
  githubAuth: GithubAuth;
  githubAppId?: string;
  githubAppInstallationId?: string;
  githubApiUrl?: string;
  claudeModel?: string;
  logLevel: string;
  runnerVcpu: number;
  runnerMemoryMiB: number;
  runnerTimeoutSeconds: number;
  runnerAttempts: number;
  maxVcpus: number;
  logRetentionDays: number;
  keepImages: number;
  /** Directory holding the Lambda package (`bot.mjs`), made by `make build`. */
  botBundleDir: string;
};

/** Log retention values CloudWatch accepts. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/**
 * Fargate task sizes (AWS Batch on Fargate): each vCPU value and the memory it allows, from
 * `min` to `max` MiB in `step` MiB increments.
 */
export const FARGATE_SIZES: readonly { vcpu: number; min: number; max: number; step: number; only?: readonly number[] }[] = [
  { vcpu: 0.25, min: 512, max: 2048, step: 512, only: [512, 1024, 2048] },
  { vcpu: 0.5, min: 1024, max: 4096, step: 1024 },
  { vcpu: 1, min: 2048, max: 8192, step: 1024 },
  { vcpu: 2, min: 4096, max: 16384, step: 1024 },
  { vcpu: 4, min: 8192, max: 30720, step: 1024 },
  { vcpu: 8, min: 16384, max: 61440, step: 4096 },
  { vcpu: 16, min: 32768, max: 122880, step: 8192 },
];

/** Why Fargate refuses `vcpu` with `memoryMiB`, or undefined when it accepts the pair. */
export function fargateSizeError(vcpu: number, memoryMiB: number): string | undefined {
  const size = FARGATE_SIZES.find((f) => f.vcpu === vcpu);
  if (!size) return `Fargate has no ${vcpu} vCPU size (${FARGATE_SIZES.map((f) => f.vcpu).join(", ")})`;
  const ok = size.only ? size.only.includes(memoryMiB) : memoryMiB >= size.min && memoryMiB <= size.max && (memoryMiB - size.min) % size.step === 0;
  if (ok) return undefined;
  const allowed = size.only ? size.only.join(", ") : `${size.min}–${size.max} in steps of ${size.step}`;
  return `Fargate needs ${allowed} MiB for ${vcpu} vCPU, got ${memoryMiB}`;
}

/** Thrown for a bad setting; the message names the variable. */
export class SettingsError extends Error {
  override name = "SettingsError";
}

/**
 * Reads the settings from `env` (see OPERATIONS.md "Settings"). Throws {@link SettingsError}
 * naming the first bad variable. Defaults make `make synth` work with nothing set.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv): StackSettings {
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new SettingsError(`${name}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const list = (name: string) => get(name)?.split(/[,\s]+/).filter(Boolean);

  const envName = get("CODY_ENV") ?? "dev";
  if (envName !== "dev" && envName !== "prod") throw new SettingsError(`CODY_ENV: must be dev or prod, got ${JSON.stringify(envName)}`);
  const githubAuth = get("GITHUB_AUTH") ?? "token";
  if (githubAuth !== "token" && githubAuth !== "app") throw new SettingsError(`GITHUB_AUTH: must be token or app, got ${JSON.stringify(githubAuth)}`);
  if (githubAuth === "app" && !get("GITHUB_APP_ID")) throw new SettingsError("GITHUB_APP_ID: GITHUB_AUTH=app needs the GitHub App's id");
  const arch = get("RUNNER_ARCHITECTURE") ?? "X86_64";
  if (arch !== "X86_64" && arch !== "ARM64") throw new SettingsError(`RUNNER_ARCHITECTURE: must be X86_64 or ARM64, got ${JSON.stringify(arch)}`);
  const retention = int("LOG_RETENTION_DAYS", 30, 1, 3653);
  if (!RETENTION_DAYS.includes(retention)) throw new SettingsError(`LOG_RETENTION_DAYS: CloudWatch accepts ${RETENTION_DAYS.join(", ")}`);
  const vcpuRaw = get("RUNNER_VCPU") ?? "2";
  const vcpu = Number(vcpuRaw);
  if (!FARGATE_SIZES.some((f) => f.vcpu === vcpu)) {
    throw new SettingsError(`RUNNER_VCPU: Fargate accepts ${FARGATE_SIZES.map((f) => f.vcpu).join(", ")} vCPU, got ${JSON.stringify(vcpuRaw)}`);
  }
  const memory = int("RUNNER_MEMORY_MIB", 4096, 512, 122_880);
  const sizeError = fargateSizeError(vcpu, memory);
  if (sizeError) throw new SettingsError(`RUNNER_MEMORY_MIB: ${sizeError}`);
  const maxVcpus = int("BATCH_MAX_VCPUS", 64, 1, 10_000);
  if (maxVcpus < vcpu) throw new SettingsError(`BATCH_MAX_VCPUS: ${maxVcpus} is below RUNNER_VCPU (${vcpu}): no runner could ever start`);
  const subnetIds = list("SUBNET_IDS");
  const securityGroupIds = list("SECURITY_GROUP_IDS");
  const publicIp = get("ASSIGN_PUBLIC_IP");
  if (publicIp !== undefined && publicIp !== "true" && publicIp !== "false") throw new SettingsError("ASSIGN_PUBLIC_IP: must be true or false");
  const region = get("AWS_REGION") ?? get("AWS_DEFAULT_REGION") ?? "us-east-1";
  const stateBucket = get("TF_STATE_BUCKET");
  const email = get("ALARM_EMAIL");
  if (email && !/^[^@\s]+@[^@\s]+$/.test(email)) throw new SettingsError(`ALARM_EMAIL: not an e-mail address: ${JSON.stringify(email)}`);
  if (envName === "prod") {
    if (!email) throw new SettingsError("ALARM_EMAIL: prod needs someone the alarms reach (an address or a mailing list; confirm the subscription e-mail)");
    if (!stateBucket) throw new SettingsError("TF_STATE_BUCKET: prod needs remote state (an S3 bucket), not state on one laptop");
    if (!subnetIds) throw new SettingsError("SUBNET_IDS: prod needs the subnets its tasks run in (no default VPC is assumed)");
  }
  const imageTag = get("RUNNER_IMAGE_TAG") ?? "unset";
  if (imageTag === "latest") throw new SettingsError("RUNNER_IMAGE_TAG: images are tagged with git SHAs (immutable) and latest is never pushed; give the SHA of a pushed image");
  const watchdog = get("WATCHDOG_ENABLED") ?? "false";
  if (watchdog !== "true" && watchdog !== "false") throw new SettingsError("WATCHDOG_ENABLED: must be true or false");
  const tableName = (name: string, fallback: string) => {
    const v = get(name) ?? fallback;
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(v)) throw new SettingsError(`${name}: not a DynamoDB table name: ${JSON.stringify(v)}`);
    return v;
  };

  return {
    env: envName,
    region,
    allowedRepositories: get("ALLOWED_REPOSITORIES") ?? "",
    allowedSlackUsers: get("ALLOWED_SLACK_USERS"),
    allowedScriptUsers: get("ALLOWED_SCRIPT_USERS"),
    allowedSlackTeams: get("ALLOWED_SLACK_TEAMS"),
    runnerImageTag: imageTag,
    runnerArchitecture: arch,
    alarmEmail: email,
    subnetIds,
    securityGroupIds,
    assignPublicIp: publicIp === undefined ? subnetIds === undefined : publicIp === "true",
    state: stateBucket ? { bucket: stateBucket, region: get("TF_STATE_REGION") ?? region, lockTable: get("TF_STATE_LOCK_TABLE") } : undefined,
    githubAuth,
    githubAppId: get("GITHUB_APP_ID"),
    githubAppInstallationId: get("GITHUB_APP_INSTALLATION_ID"),
    githubApiUrl: get("GITHUB_API_URL"),
    claudeModel: get("CLAUDE_MODEL"),
    logLevel: get("LOG_LEVEL") ?? "info",
    runnerVcpu: vcpu,
    runnerMemoryMiB: memory,
    runnerTimeoutSeconds: int("RUNNER_TIMEOUT_SECONDS", 3600, 60, 14 * 24 * 3600),
    runnerAttempts: int("RUNNER_ATTEMPTS", 3, 1, 10),
    maxVcpus,
    jobsTableName: tableName("JOBS_TABLE_NAME", resourceName({ env: envName }, "jobs")),
    reposTableName: tableName("REPOSITORIES_TABLE_NAME", resourceName({ env: envName }, "repositories")),
    watchdogEnabled: watchdog === "true",
    budgetUsd: int("BUDGET_MONTHLY_USD", 100, 1, 1_000_000),
    logRetentionDays: retention,
    keepImages: int("ECR_KEEP_IMAGES", 20, 1, 1000),
    botBundleDir: get("BOT_BUNDLE_DIR") ?? "dist/lambda",
  };
}

/** `cody-batch-<env>-<name>`: the name of every resource of the stack. */
export function resourceName(s: Pick<StackSettings, "env">, name: string): string {
  return `cody-batch-${s.env}-${name}`;
}

/** The tag every resource (and, through propagate_tags, every Fargate task) carries: the budget filters on it. */
export function stackTag(s: Pick<StackSettings, "env">): { key: string; value: string } {
  return { key: STACK_TAG_KEY, value: stackTagValue(s.env) };
}
