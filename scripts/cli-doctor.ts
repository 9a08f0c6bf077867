/**
 * `cody doctor --env dev|prod` (issue 23): the daily and weekly checks of OPERATIONS.md
 * ("Daily and weekly checks"), each printed with its result: `ok`, `warn` (look at it today) or
 * `FAIL` (act now), and `manual` for what only the AWS console or CLI shows (the command is
 * printed). Exit 1 when any check FAILs, else 0. Reads the stack's outputs like every `--env`
 * command; AWS endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables (tests point
 * them at the embedded stack and the fakes).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig, type Config } from "../core/config/index.ts";
import type { Job, Store } from "../core/jobs/index.ts";
import { AWS_HTTP_TIMEOUTS, s3ClientOptions } from "../core/jobs/index.ts";
import type { QueueProbe } from "../core/launch/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { openEnvironment } from "../environment/index.ts";
import { AWS_ENV_MARKER, outputsFile, parseOutputs } from "./cli-aws-environment.ts";
import { UsageError } from "./cli-usage-error.ts";

/** One check's result. */
export type CheckResult = { period: "daily" | "weekly"; name: string; status: "ok" | "warn" | "FAIL" | "manual"; detail: string };

/** What the checks read. */
export type DoctorDeps = {
  store: Pick<Store, "listUnfinishedJobs" | "listJobs">;
  queue?: QueueProbe;
  /** Lists one key of the artifacts bucket; throws when it is unreachable. */
  headBucket: () => Promise<void>;
  /** Whether each secret (output name → ARN) holds a value. */
  secretHasValue: (arn: string) => Promise<boolean>;
  secrets: Record<string, string>;
  optionalSecrets: readonly string[];
  outputs: Record<string, string>;
  now: Date;
};

const HOUR = 3600_000;

/** Runs every check; never throws (a check that cannot run is its own FAIL). */
export async function runDoctor(d: DoctorDeps): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const attempt = async (period: CheckResult["period"], name: string, fn: () => Promise<Omit<CheckResult, "period" | "name">>) => {
    try {
      out.push({ period, name, ...(await fn()) });
    } catch (err) {
      out.push({ period, name, status: "FAIL", detail: (err as Error).message });
    }
  };
  let unfinished: Job[] = [];
  await attempt("daily", "tables", async () => {
    unfinished = await d.store.listUnfinishedJobs(500);
    return { status: "ok", detail: `reachable; ${unfinished.length} unfinished job${unfinished.length === 1 ? "" : "s"}` };
  });
  await attempt("daily", "stuck jobs", async () => {
    const old = unfinished.filter((j) => d.now.getTime() - Date.parse(j.updatedAt) > 24 * HOUR);
    return old.length === 0
      ? { status: "ok", detail: "no unfinished job without progress for 24 h" }
      : { status: "warn", detail: `no progress for 24 h: ${old.map((j) => j.jobId).join(", ")} (cody status <job> --env; OPERATIONS.md "Jobs stay PENDING")` };
  });
  await attempt("daily", "batch queue", async () => {
    if (!d.queue) return { status: "manual", detail: "no job_queue in the outputs" };
    const states = await Promise.all(unfinished.filter((j) => j.batchJobId).map(async (j) => [j, await d.queue!(j)] as const));
    const unknown = states.filter(([, s]) => s.kind === "unknown");
    if (unknown.length) return { status: "FAIL", detail: `AWS Batch cannot be asked: ${unknown[0]![1].kind === "unknown" ? unknown[0]![1].reason : ""}` };
    const queued = states.flatMap(([j, s]) => (s.kind === "queued" ? [{ j, s }] : []));
    const long = queued.filter(({ s }) => s.since && d.now.getTime() - s.since.getTime() > 2 * HOUR);
    if (long.length) return { status: "warn", detail: `queued over 2 h: ${long.map(({ j, s }) => `${j.jobId} (${s.status}, ${s.queued} waiting)`).join(", ")}` };
    return { status: "ok", detail: `${states.length} submitted job${states.length === 1 ? "" : "s"} checked, ${queued.length} queued` };
  });
  await attempt("daily", "campaign actions", async () => {
    const recent = await d.store.listJobs(200);
    const stalled = recent.filter((j) => {
      const run = (j as Job & { actionRun?: { updatedAt: string } }).actionRun;
      return run && d.now.getTime() - Date.parse(run.updatedAt) > 10 * 60_000;
    });
    return stalled.length === 0
      ? { status: "ok", detail: "no campaign action stalled" }
      : { status: "warn", detail: `stalled (resume: the same cody <action> <job> --env): ${stalled.map((j) => `${j.jobId} ${(j as Job & { actionRun: { action: string } }).actionRun.action}`).join(", ")}` };
  });
  await attempt("daily", "artifacts bucket", async () => {
    await d.headBucket();
    return { status: "ok", detail: `${d.outputs.artifacts_bucket} reachable` };
  });
  await attempt("daily", "secrets", async () => {
    const empty: string[] = [];
    for (const [name, arn] of Object.entries(d.secrets)) if (!(await d.secretHasValue(arn))) empty.push(name);
    const required = empty.filter((n) => !d.optionalSecrets.includes(n));
    if (required.length) return { status: "FAIL", detail: `no value: ${required.join(", ")} (aws secretsmanager put-secret-value; OPERATIONS.md "Secrets")` };
    return { status: empty.length ? "warn" : "ok", detail: empty.length ? `optional, no value: ${empty.join(", ")}` : `${Object.keys(d.secrets).length} secrets hold values` };
  });
  await attempt("daily", "alarms", async () => ({
    status: "manual",
    detail: `aws cloudwatch describe-alarms --state-value ALARM --alarm-name-prefix ${d.outputs.bot_function?.replace(/-bot$/, "") ?? "cody-batch-"}`,
  }));
  await attempt("daily", "dead letters", async () => ({
    status: "manual",
    detail: `aws sqs get-queue-attributes --queue-url ${d.outputs.bot_dead_letter_queue ?? "<bot_dead_letter_queue>"} --attribute-names ApproximateNumberOfMessages`,
  }));
  await attempt("weekly", "failed repositories", async () => {
    const week = (await d.store.listJobs(200)).filter((j) => d.now.getTime() - Date.parse(j.createdAt) < 7 * 24 * HOUR);
    const failed = week.reduce((n, j) => n + (j.counters?.failed ?? 0), 0);
    const total = week.reduce((n, j) => n + (j.counters?.total ?? 0), 0);
    const rate = total ? Math.round((100 * failed) / total) : 0;
    return { status: rate > 20 ? "warn" : "ok", detail: `${failed} of ${total} repositories FAILED in 7 days (${rate} %) across ${week.length} jobs` };
  });
  await attempt("weekly", "backups", async () => ({
    status: "manual",
    detail: `aws backup list-recovery-points-by-backup-vault --backup-vault-name ${d.outputs.backup_vault ?? "<backup_vault>"} --max-results 7`,
  }));
  await attempt("weekly", "cost", async () => ({ status: "manual", detail: "aws budgets describe-budgets --account-id <account> (the monthly budget; dashboard widget Claude cost)" }));
  return out;
}

/** `cody doctor --env dev|prod [--json]`: prints every check; exit 1 when one FAILs. */
export async function doctorMain(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" } }, allowPositionals: false, strict: true });
  const name = env[AWS_ENV_MARKER];
  if (!name) throw new UsageError("doctor checks a deployed stack: give --env dev or --env prod");
  const outputs = parseOutputs(readFileSync(outputsFile(env, name), "utf8"), `cody-batch-${name}`);
  const config = loadConfig(env);
  const log = newLogger({ level: env.LOG_LEVEL ?? "warn" }, { write: (s: string) => void process.stderr.write(s) });
  const world = await openEnvironment(env, { log, launcher: false });
  try {
    const results = await runDoctor(await doctorDeps(config, world.store, outputs));
    if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else for (const r of results) process.stdout.write(`[${r.period}] ${r.status.padEnd(6)} ${r.name}: ${r.detail}\n`);
    return results.some((r) => r.status === "FAIL") ? 1 : 0;
  } finally {
    await world.close();
  }
}

async function doctorDeps(config: Config, store: Store, outputs: Record<string, string>): Promise<DoctorDeps> {
  const [{ S3Client, ListObjectsV2Command }, { SecretsManagerClient, GetSecretValueCommand }, { OPTIONAL_SECRETS }] = await Promise.all([
    import("@aws-sdk/client-s3"),
    import("@aws-sdk/client-secrets-manager"),
    import("../core/secrets/index.ts"),
  ]);
  const s3 = new S3Client(s3ClientOptions(config));
  const sm = new SecretsManagerClient({ region: config.region, requestHandler: AWS_HTTP_TIMEOUTS });
  const queue = outputs.job_queue ? (await import("../core/launch/batch-queue.ts")).queueProbeFromConfig({ ...config, batchJobQueue: outputs.job_queue }) : undefined;
  const secrets = Object.fromEntries(Object.entries(outputs).filter(([k]) => k.startsWith("secret_")).map(([k, arn]) => [k.slice("secret_".length).toUpperCase(), arn]));
  return {
    store,
    ...(queue ? { queue } : {}),
    headBucket: async () => void (await s3.send(new ListObjectsV2Command({ Bucket: config.artifactsBucket, MaxKeys: 1 }))),
    secretHasValue: async (arn) => {
      try {
        // The value is read and dropped: never printed, never kept.
        const r = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
        return Boolean(r.SecretString ?? r.SecretBinary);
      } catch (err) {
        if ((err as { name?: string }).name === "ResourceNotFoundException") return false;
        throw err;
      }
    },
    secrets,
    optionalSecrets: OPTIONAL_SECRETS,
    outputs,
    now: new Date(),
  };
}
