/**
 * Configuration: the environment of DESIGN.md section 3, read once, validated with zod, typed.
 * `loadConfig` is the only place `process.env` is interpreted; entry points call it.
 */
// zod/mini: the same validation as classic zod at a thirtieth of the bundle size (bot cold start).
import * as z from "zod/mini";
import { parseAllowlist, type AllowPattern } from "./repo-spec.ts";

/** Thrown when a variable is missing or malformed; the message names the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** An optional variable, trimmed; empty counts as unset. */
const optionalString = z.pipe(
  z.optional(z.string()),
  z.transform((v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim())),
);

/** A variable checked (and converted) by `check`, which returns an error message or the value. */
function checked<T>(convert: (v: string | undefined) => { ok: T } | { error: string }) {
  return z.pipe(
    optionalString,
    z.transform((v: string | undefined, ctx) => {
      const r = convert(v);
      if ("ok" in r) return r.ok;
      ctx.issues.push({ code: "custom", message: r.error, input: v });
      return z.NEVER;
    }),
  );
}

const withDefault = (fallback: string) => checked<string>((v) => ({ ok: v ?? fallback }));

const url = (name: string) =>
  checked((v) => (v === undefined || /^(https?|file):\/\//.test(v) ? { ok: v } : { error: `${name} must be an http(s):// or file:// URL` }));

const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER, maxReason = "") =>
  checked<number>((v) => {
    if (v === undefined) return { ok: fallback };
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) return { error: `must be a positive whole number, got ${JSON.stringify(v)}` };
    return n <= max ? { ok: n } : { error: maxReason };
  });

const oneOf = <T extends string>(values: readonly T[]) =>
  checked((v) => (v === undefined || values.includes(v as T) ? { ok: v as T | undefined } : { error: `must be one of ${values.join(", ")}, got ${JSON.stringify(v)}` }));

const schema = z.object({
  DYNAMODB_JOBS_TABLE: withDefault("cody-batch-local-jobs"),
  DYNAMODB_REPOSITORIES_TABLE: withDefault("cody-batch-local-repositories"),
  DYNAMODB_ENDPOINT: url("DYNAMODB_ENDPOINT"),
  S3_ENDPOINT: url("S3_ENDPOINT"),
  AWS_REGION: optionalString,
  CODY_STACK_ACCESS_KEY_ID: optionalString,
  CODY_STACK_SECRET_ACCESS_KEY: optionalString,
  ARTIFACTS_BUCKET: withDefault("cody-batch-local-artifacts"),
  PRESIGN_TTL_SECONDS: positiveInt(7 * 24 * 3600, 7 * 24 * 3600, "must be at most 604800 (7 days, S3's limit)"),
  LAUNCHER: oneOf(["batch", "local"] as const),
  LOCAL_CONCURRENCY: positiveInt(4),
  AWS_BATCH_JOB_QUEUE: optionalString,
  AWS_BATCH_JOB_DEFINITION: optionalString,
  CODY_ENV: withDefault("local"),
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: url("SLACK_API_URL"),
  BOT_PUBLIC_URL: url("BOT_PUBLIC_URL"),
  LINK_SIGNING_SECRET: optionalString,
  GITHUB_TOKEN: optionalString,
  GITHUB_API_URL: url("GITHUB_API_URL"),
  GITHUB_APP_ID: optionalString,
  GITHUB_APP_PRIVATE_KEY: optionalString,
  GITHUB_APP_INSTALLATION_ID: optionalString,
  GIT_BASE_URL: url("GIT_BASE_URL"),
  ANTHROPIC_API_KEY: optionalString,
  CLAUDE_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: url("ANTHROPIC_BASE_URL"),
  CLAUDE_MODEL: optionalString,
  ALLOWED_REPOSITORIES: optionalString,
  ALLOWED_SLACK_USERS: optionalString,
  ALLOWED_SCRIPT_USERS: optionalString,
  ALLOWED_SLACK_TEAMS: optionalString,
  LOG_LEVEL: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const),
  JOB_ID: optionalString,
  AWS_BATCH_JOB_ARRAY_INDEX: checked((v) => {
    if (v === undefined) return { ok: undefined };
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? { ok: n as number | undefined } : { error: `must be a whole number ≥ 0, got ${JSON.stringify(v)}` };
  }),
  SCRIPT_TIMEOUT_SECONDS: positiveInt(600),
  MAX_ATTEMPTS: positiveInt(3),
  HEARTBEAT_SECONDS: positiveInt(30),
  WORK_DIR: optionalString,
  AWS_BATCH_JOB_ATTEMPT: checked((v) => ({ ok: v !== undefined && /^[1-9][0-9]*$/.test(v) ? Number(v) : undefined })),
  CLONE_DEPTH: positiveInt(1),
  MAX_CHANGED_FILES: positiveInt(2000),
  MAX_REPO_MB: positiveInt(2048),
  MAX_FILE_KB: positiveInt(10 * 1024),
  WATCHDOG_PENDING_MINUTES: positiveInt(60),
  SANDBOX_UIDS: checked(parseSandboxUids),
  SANDBOX_LOCK_DIR: optionalString,
  PR_REFRESH_BUDGET: positiveInt(200),
  GITHUB_WEBHOOK_SECRET: optionalString,
  GITHUB_WRITE_INTERVAL_MS: checked((v) => (v === undefined ? { ok: undefined } : /^\d+$/.test(v) ? { ok: Number(v) as number | undefined } : { error: `must be a whole number of milliseconds, got ${JSON.stringify(v)}` })),
  GITHUB_NOTIFY_INTERVAL_MS: checked((v) => (v === undefined ? { ok: undefined } : /^\d+$/.test(v) ? { ok: Number(v) as number | undefined } : { error: `must be a whole number of milliseconds, got ${JSON.stringify(v)}` })),
});

/** The validated configuration every program shares. Secrets are plain strings here: never log this object. */
export type Config = {
  jobsTable: string;
  reposTable: string;
  dynamodbEndpoint?: string;
  s3Endpoint?: string;
  /**
   * What requests to a local endpoint (DYNAMODB_ENDPOINT, S3_ENDPOINT) are signed with: the
   * embedded stack's own credentials from CODY_STACK_ACCESS_KEY_ID/CODY_STACK_SECRET_ACCESS_KEY
   * (it refuses any other), or dummy ones when they are unset.
   */
  localCredentials?: { accessKeyId: string; secretAccessKey: string };
  region: string;
  artifactsBucket: string;
  presignTtlSeconds: number;
  launcher: "batch" | "local";
  localConcurrency: number;
  batchJobQueue?: string;
  batchJobDefinition?: string;
  env: string;
  slack: { botToken?: string; signingSecret?: string; appToken?: string; apiUrl?: string };
  /** The bot's public base URL (`BOT_PUBLIC_URL`); Slack messages link artifacts through `${botPublicUrl}/links/…` when set. */
  botPublicUrl?: string;
  /**
   * What stable links are signed with (`LINK_SIGNING_SECRET`, a dedicated secret the bot and the
   * runners share in AWS), else the Slack signing secret; undefined when neither is set.
   */
  linkSecret?: string;
  github: {
    token?: string;
    apiUrl?: string;
    app?: { appId: string; privateKey: string; installationId?: string };
    /** Minimum ms between two writes / two notifying writes of a process (GITHUB_WRITE_INTERVAL_MS, GITHUB_NOTIFY_INTERVAL_MS; GitHub advises 1000 / 3000, the defaults). */
    pacing?: { writeMs?: number; notifyMs?: number };
    /** Secret of the bot's GitHub webhook (`POST /github/webhooks`, X-Hub-Signature-256); no webhook route without it. */
    webhookSecret?: string;
  };
  /** Where `owner/name` is cloned from: `${gitBaseUrl}/owner/name.git`. */
  gitBaseUrl: string;
  anthropic: { apiKey?: string; baseUrl?: string; model?: string };
  allowlist: AllowPattern[];
  allowedSlackUsers: string[];
  logLevel: string;
  jobId?: string;
  arrayIndex?: number;
  scriptTimeoutSeconds: number;
  maxAttempts: number;
  heartbeatSeconds: number;
  workDir?: string;
  /** The launcher's attempt number of this runner (AWS_BATCH_JOB_ATTEMPT, set by AWS Batch and the local launcher). */
  batchAttempt?: number;
  /** Caps on one repository's work: clone depth, changed files, checkout size, changed file size. */
  limits: { cloneDepth: number; maxChangedFiles: number; maxRepoBytes: number; maxFileBytes: number };
  /** The watchdog fails PENDING rows of a job that made no progress for this long (and has no live runner). */
  watchdogPendingMinutes: number;
  /**
   * Slack user IDs who may start jobs that run commands (script jobs, verify commands) from Slack
   * (`ALLOWED_SCRIPT_USERS`); empty → the people of `ALLOWED_SLACK_USERS`; both empty → nobody.
   */
  allowedScriptUsers: string[];
  /** Slack team (workspace) IDs the bot answers (`ALLOWED_SLACK_TEAMS`); empty → the bot token's own workspace. */
  allowedSlackTeams: string[];
  /**
   * The unprivileged uids a person's commands run as when the runner is root (`SANDBOX_UIDS`,
   * default 61000-61015; `off`: none), and where their leases are kept (`SANDBOX_LOCK_DIR`).
   */
  sandbox: { uids?: { firstUid: number; count: number }; lockDir?: string };
  /** GitHub requests (non-304) one scheduled PR refresh pass may spend (every 5 minutes: 2,400/hour at most). */
  prRefreshBudget: number;
};

/**
 * Reads and validates the environment. Throws {@link ConfigError} naming the first bad variable.
 * Defaults suit the embedded local stack.
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? "environment");
    throw new ConfigError(`${name}: ${issue.message}`);
  }
  const e = parsed.data;
  const allow = parseAllowlist(e.ALLOWED_REPOSITORIES ?? "");
  if (allow.kind === "invalid") throw new ConfigError(`ALLOWED_REPOSITORIES: ${allow.reason}`);
  if ((e.GITHUB_APP_ID === undefined) !== (e.GITHUB_APP_PRIVATE_KEY === undefined)) {
    throw new ConfigError("GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY go together: set both or neither");
  }
  const launcher = e.LAUNCHER ?? "local";
  if (launcher === "batch" && (!e.AWS_BATCH_JOB_QUEUE || !e.AWS_BATCH_JOB_DEFINITION)) {
    throw new ConfigError("AWS_BATCH_JOB_QUEUE: LAUNCHER=batch needs AWS_BATCH_JOB_QUEUE and AWS_BATCH_JOB_DEFINITION");
  }
  return {
    jobsTable: e.DYNAMODB_JOBS_TABLE,
    reposTable: e.DYNAMODB_REPOSITORIES_TABLE,
    dynamodbEndpoint: e.DYNAMODB_ENDPOINT,
    s3Endpoint: e.S3_ENDPOINT,
    ...((e.DYNAMODB_ENDPOINT || e.S3_ENDPOINT) && e.CODY_STACK_ACCESS_KEY_ID && e.CODY_STACK_SECRET_ACCESS_KEY
      ? { localCredentials: { accessKeyId: e.CODY_STACK_ACCESS_KEY_ID, secretAccessKey: e.CODY_STACK_SECRET_ACCESS_KEY } }
      : {}),
    region: e.AWS_REGION ?? "us-east-1",
    artifactsBucket: e.ARTIFACTS_BUCKET,
    presignTtlSeconds: e.PRESIGN_TTL_SECONDS,
    launcher,
    localConcurrency: e.LOCAL_CONCURRENCY,
    batchJobQueue: e.AWS_BATCH_JOB_QUEUE,
    batchJobDefinition: e.AWS_BATCH_JOB_DEFINITION,
    env: e.CODY_ENV,
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
    },
    botPublicUrl: e.BOT_PUBLIC_URL,
    linkSecret: e.LINK_SIGNING_SECRET ?? e.SLACK_SIGNING_SECRET,
    github: {
      token: e.GITHUB_TOKEN,
      apiUrl: e.GITHUB_API_URL,
      ...(e.GITHUB_WEBHOOK_SECRET ? { webhookSecret: e.GITHUB_WEBHOOK_SECRET } : {}),
      ...(e.GITHUB_WRITE_INTERVAL_MS !== undefined || e.GITHUB_NOTIFY_INTERVAL_MS !== undefined
        ? { pacing: { ...(e.GITHUB_WRITE_INTERVAL_MS !== undefined ? { writeMs: e.GITHUB_WRITE_INTERVAL_MS } : {}), ...(e.GITHUB_NOTIFY_INTERVAL_MS !== undefined ? { notifyMs: e.GITHUB_NOTIFY_INTERVAL_MS } : {}) } }
        : {}),
      ...(e.GITHUB_APP_ID && e.GITHUB_APP_PRIVATE_KEY
        ? {
            app: {
              appId: e.GITHUB_APP_ID,
              privateKey: e.GITHUB_APP_PRIVATE_KEY.replace(/\\n/g, "\n"),
              installationId: e.GITHUB_APP_INSTALLATION_ID,
            },
          }
        : {}),
    },
    gitBaseUrl: (e.GIT_BASE_URL ?? gitBaseFromApi(e.GITHUB_API_URL)).replace(/\/+$/, ""),
    anthropic: {
      apiKey: e.ANTHROPIC_API_KEY ?? e.CLAUDE_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL,
      model: e.CLAUDE_MODEL,
    },
    allowlist: allow.patterns,
    allowedSlackUsers: (e.ALLOWED_SLACK_USERS ?? "").split(/[,\s]+/).filter(Boolean),
    logLevel: e.LOG_LEVEL ?? "info",
    jobId: e.JOB_ID,
    arrayIndex: e.AWS_BATCH_JOB_ARRAY_INDEX,
    scriptTimeoutSeconds: e.SCRIPT_TIMEOUT_SECONDS,
    maxAttempts: e.MAX_ATTEMPTS,
    heartbeatSeconds: e.HEARTBEAT_SECONDS,
    workDir: e.WORK_DIR,
    batchAttempt: e.AWS_BATCH_JOB_ATTEMPT,
    limits: {
      cloneDepth: e.CLONE_DEPTH,
      maxChangedFiles: e.MAX_CHANGED_FILES,
      maxRepoBytes: e.MAX_REPO_MB * 1024 * 1024,
      maxFileBytes: e.MAX_FILE_KB * 1024,
    },
    watchdogPendingMinutes: e.WATCHDOG_PENDING_MINUTES,
    allowedScriptUsers: idList(e.ALLOWED_SCRIPT_USERS),
    allowedSlackTeams: idList(e.ALLOWED_SLACK_TEAMS),
    sandbox: { ...(e.SANDBOX_UIDS ? { uids: e.SANDBOX_UIDS } : {}), ...(e.SANDBOX_LOCK_DIR ? { lockDir: e.SANDBOX_LOCK_DIR } : {}) },
    prRefreshBudget: e.PR_REFRESH_BUDGET,
  };
}

/** The default `SANDBOX_UIDS`: Dockerfile.runner names the first one `cody-sandbox`. */
export const DEFAULT_SANDBOX_UIDS = { firstUid: 61000, count: 16 };

/**
 * Parses `SANDBOX_UIDS`: `61000-61015` (a range), `61000` (one uid) or `off`; unset means the
 * default range.
 */
function parseSandboxUids(v: string | undefined): { ok: { firstUid: number; count: number } | undefined } | { error: string } {
  if (v === undefined) return { ok: DEFAULT_SANDBOX_UIDS };
  if (v === "off") return { ok: undefined };
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  const first = Number(m?.[1]);
  const last = m?.[2] !== undefined ? Number(m[2]) : first;
  if (!m || first < 1000 || last < first || last > 2 ** 31 - 2 || last - first >= 1024) {
    return { error: `must be a uid range like 61000-61015 (uids of at least 1000, at most 1024 of them) or off, got ${JSON.stringify(v)}` };
  }
  return { ok: { firstUid: first, count: last - first + 1 } };
}

/**
 * Where to clone from when `GIT_BASE_URL` is not set: github.com for the public API, and the
 * API's host for GitHub Enterprise Server (`https://ghe.example.com/api/v3` → `https://ghe.example.com`).
 */
export function gitBaseFromApi(apiUrl: string | undefined): string {
  if (!apiUrl) return "https://github.com";
  const u = new URL(apiUrl);
  if (u.hostname === "api.github.com") return "https://github.com";
  return `${u.protocol}//${u.host}`;
}

/** A comma- or space-separated list of IDs. */
function idList(v: string | undefined): string[] {
  return (v ?? "").split(/[,\s]+/).filter(Boolean);
}

/** Secret values of a config, for redaction in logs and artifacts. */
export function secretValues(c: Config): string[] {
  return [
    c.slack.botToken,
    c.slack.signingSecret,
    c.slack.appToken,
    c.github.token,
    c.github.app?.privateKey,
    c.github.webhookSecret,
    c.anthropic.apiKey,
    c.linkSecret,
    c.localCredentials?.secretAccessKey,
  ].filter((v): v is string => typeof v === "string" && v.length >= 8);
}
