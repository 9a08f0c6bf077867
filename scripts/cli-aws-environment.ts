/**
 * `cody … --env dev|prod`: the CLI on a deployed stack. Table names, bucket, region, job queue
 * and job definition come from the stack's outputs, in the file `make deploy` writes
 * (`terraform/outputs-<env>.json`, or CODY_OUTPUTS_FILE); AWS credentials from the operator's
 * shell (AWS_PROFILE, …). A named AWS environment never falls back to the embedded stack:
 * without outputs the command stops with exit 2. Read-only commands need no queue.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../core/config/index.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Marks an environment opened for a deployed stack: environment/environment.ts then never starts the embedded stack. */
export const AWS_ENV_MARKER = "CODY_AWS_ENVIRONMENT";

/** Commands that only read the tables (and may update rows: the watchdog), so need no Batch queue. */
const READ_ONLY = new Set(["list", "status", "watchdog"]);
/** Commands that submit or stop Batch jobs. */
const LAUNCHING = new Set(["run", "cancel"]);

/** Where the outputs of stack `cody-batch-<name>` are: CODY_OUTPUTS_FILE, else terraform/outputs-<name>.json. */
export function outputsFile(env: NodeJS.ProcessEnv, name: string): string {
  return env.CODY_OUTPUTS_FILE?.trim() || resolve(ROOT, "terraform", `outputs-${name}.json`);
}

/**
 * The outputs in any of the shapes the tools write: `{name: value}` (make deploy),
 * `{"cody-batch-<env>": {name: value}}` (`cdktf deploy --outputs-file`) or
 * `{name: {value, …}}` (`terraform output -json`).
 */
export function parseOutputs(text: string, stackId: string): Record<string, string> {
  let json = JSON.parse(text) as Record<string, unknown>;
  if (json[stackId] && typeof json[stackId] === "object") json = json[stackId] as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(json)) {
    const value = v && typeof v === "object" && "value" in v ? (v as { value: unknown }).value : v;
    if (typeof value === "string") out[k] = value;
  }
  return out;
}

/**
 * Takes `--env NAME` / `--env=NAME` out of `argv` and returns the environment for that stack
 * (tables, bucket, region, CODY_ENV, and for run/cancel LAUNCHER=batch with queue and
 * definition). Without the flag both come back unchanged. Throws ConfigError (exit 2) for an
 * unknown name, a command that cannot run against AWS, or missing outputs.
 */
export function withAwsEnvironment(argv: string[], env: NodeJS.ProcessEnv): { argv: string[]; env: NodeJS.ProcessEnv } {
  const at = argv.findIndex((a) => a === "--env" || a.startsWith("--env="));
  if (at < 0) return { argv, env };
  const name = argv[at] === "--env" ? argv[at + 1] : argv[at]!.slice("--env=".length);
  const rest = argv.filter((_, i) => i !== at && !(argv[at] === "--env" && i === at + 1));
  if (name !== "dev" && name !== "prod") throw new ConfigError(`--env: must be dev or prod, got ${JSON.stringify(name ?? "")}`);
  const command = rest[0] ?? "";
  if (!READ_ONLY.has(command) && !LAUNCHING.has(command)) {
    throw new ConfigError(`--env: works with ${[...READ_ONLY, ...LAUNCHING].join(", ")}, not ${JSON.stringify(command)}`);
  }
  const file = outputsFile(env, name);
  const stackId = `cody-batch-${name}`;
  if (!existsSync(file)) {
    throw new ConfigError(
      `--env ${name}: no outputs of ${stackId} at ${file}. make deploy writes it; or write it from the state: ` +
        `(cd terraform/cdktf.out/stacks/${stackId} && terraform output -json) > ${file}`,
    );
  }
  let o: Record<string, string>;
  try {
    o = parseOutputs(readFileSync(file, "utf8"), stackId);
  } catch (err) {
    throw new ConfigError(`--env ${name}: ${file} is not JSON: ${(err as Error).message}`);
  }
  const need = ["jobs_table", "repositories_table", "artifacts_bucket", ...(LAUNCHING.has(command) ? ["job_queue", "job_definition"] : [])];
  const missing = need.filter((k) => !o[k]);
  if (missing.length) throw new ConfigError(`--env ${name}: ${file} lacks ${missing.join(", ")} (outputs of ${stackId}; redeploy or rewrite the file)`);
  const region = o.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const out: NodeJS.ProcessEnv = {
    ...env,
    [AWS_ENV_MARKER]: name,
    CODY_ENV: name,
    DYNAMODB_JOBS_TABLE: o.jobs_table,
    DYNAMODB_REPOSITORIES_TABLE: o.repositories_table,
    ARTIFACTS_BUCKET: o.artifacts_bucket,
    ...(region ? { AWS_REGION: region } : {}),
    // Read-only commands run without a launcher, so they need no queue.
    ...(LAUNCHING.has(command) ? { LAUNCHER: "batch", AWS_BATCH_JOB_QUEUE: o.job_queue, AWS_BATCH_JOB_DEFINITION: o.job_definition } : { LAUNCHER: undefined }),
  };
  return { argv: rest, env: out };
}
