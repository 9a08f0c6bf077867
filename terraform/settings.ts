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
  /** Subnets and security groups for Fargate tasks; default: the default VPC's default subnets and a new egress-only group. */
  subnetIds?: string[];
  securityGroupIds?: string[];
  /** Public IPs for tasks: needed in public subnets (no NAT) to reach GitHub, Slack, Anthropic. */
  assignPublicIp: boolean;
  state?: { bucket: string; region: string; lockTable?: string };
  /** Local state file when no TF_STATE_BUCKET is set (absolute, outside cdktf.out so `make clean` keeps it). */
  localStateFile?: string;
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
  const vcpu = int("RUNNER_VCPU", 2, 1, 16);
  const memory = int("RUNNER_MEMORY_MIB", 4096, 512, 122_880);
  // Fargate: memory between 2 and 8 GiB per vCPU (1 vCPU: 2–8 GiB, 2 vCPU: 4–16 GiB, …).
  if (vcpu >= 1 && (memory < vcpu * 2048 || memory > vcpu * 8192)) {
    throw new SettingsError(`RUNNER_MEMORY_MIB: Fargate needs ${vcpu * 2048}–${vcpu * 8192} MiB for ${vcpu} vCPU, got ${memory}`);
  }
  const subnetIds = list("SUBNET_IDS");
  const securityGroupIds = list("SECURITY_GROUP_IDS");
  const publicIp = get("ASSIGN_PUBLIC_IP");
  if (publicIp !== undefined && publicIp !== "true" && publicIp !== "false") throw new SettingsError("ASSIGN_PUBLIC_IP: must be true or false");
  const region = get("AWS_REGION") ?? get("AWS_DEFAULT_REGION") ?? "us-east-1";
  const stateBucket = get("TF_STATE_BUCKET");
  const email = get("ALARM_EMAIL");
  if (email && !/^[^@\s]+@[^@\s]+$/.test(email)) throw new SettingsError(`ALARM_EMAIL: not an e-mail address: ${JSON.stringify(email)}`);

  return {
    env: envName,
    region,
    allowedRepositories: get("ALLOWED_REPOSITORIES") ?? "",
    allowedSlackUsers: get("ALLOWED_SLACK_USERS"),
    allowedScriptUsers: get("ALLOWED_SCRIPT_USERS"),
    allowedSlackTeams: get("ALLOWED_SLACK_TEAMS"),
    runnerImageTag: get("RUNNER_IMAGE_TAG") ?? "latest",
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
    maxVcpus: int("BATCH_MAX_VCPUS", 64, 1, 10_000),
    logRetentionDays: retention,
    keepImages: int("ECR_KEEP_IMAGES", 20, 1, 1000),
    botBundleDir: get("BOT_BUNDLE_DIR") ?? "dist/lambda",
  };
}

/** `cody-batch-<env>-<name>`: the name of every resource of the stack. */
export function resourceName(s: Pick<StackSettings, "env">, name: string): string {
  return `cody-batch-${s.env}-${name}`;
}
