/**
 * Secrets at run time in AWS: for each secret variable X of the config (DESIGN.md §3), when
 * `X_SECRET_ARN` is set and X is not, X is read from Secrets Manager — once per process (one Lambda
 * cold start, one container) — so no secret value ever sits in a Lambda environment.
 * Entry points call `resolveSecrets(process.env)` and hand the result to `loadConfig`.
 * Batch containers normally get their values injected by the job definition instead.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

/** The variables that may come from Secrets Manager through `<NAME>_SECRET_ARN`. */
export const SECRET_VARIABLES = [
  "SLACK_BOT_TOKEN",
  "SLACK_SIGNING_SECRET",
  "SLACK_APP_TOKEN",
  "GITHUB_TOKEN",
  "GITHUB_APP_PRIVATE_KEY",
  "ANTHROPIC_API_KEY",
  "LINK_SIGNING_SECRET",
] as const;

/**
 * Secrets a process can do without: one still without a value (empty, or no version yet) leaves
 * its variable unset instead of failing the start. Without ANTHROPIC_API_KEY a script job runs and
 * a Claude job fails its repository with a reason; without LINK_SIGNING_SECRET links are presigned.
 */
export const OPTIONAL_SECRETS: readonly string[] = ["ANTHROPIC_API_KEY", "LINK_SIGNING_SECRET"];

/** A secret that exists but holds no value yet. */
class NoValueError extends Error {
  override name = "NoValueError";
}

const FETCH_TIMEOUT_MS = 10_000;

// Per-process cache (one Lambda cold start): ARN → value. A failed fetch is forgotten so the
// next invocation tries again.
const cache = new Map<string, Promise<string>>();

/**
 * Returns a copy of `env` with every X whose `X_SECRET_ARN` is set filled from Secrets Manager.
 * A value already present in `env` wins and nothing is fetched for it. Fetches run in parallel,
 * each at most once per process per ARN. Throws an Error naming the variable and the ARN (never
 * a value) when a secret cannot be read or has no string value; `env` is not modified.
 */
export async function resolveSecrets(env: NodeJS.ProcessEnv, client?: SecretsManagerClient, signal?: AbortSignal): Promise<NodeJS.ProcessEnv> {
  const wanted = SECRET_VARIABLES.filter((name) => !env[name]?.trim() && env[`${name}_SECRET_ARN`]?.trim());
  if (wanted.length === 0) return { ...env };
  const sm = client ?? new SecretsManagerClient({ region: env.AWS_REGION ?? regionOf(env[`${wanted[0]!}_SECRET_ARN`]!) });
  const budget = signal ? AbortSignal.any([signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]) : AbortSignal.timeout(FETCH_TIMEOUT_MS);
  const values = await Promise.all(
    wanted.map(async (name) => {
      const arn = env[`${name}_SECRET_ARN`]!.trim();
      try {
        return [name, await cachedValue(sm, arn, budget)] as const;
      } catch (cause) {
        // Secrets Manager answers ResourceNotFoundException for a secret that has no version yet.
        const noValue = cause instanceof NoValueError || (cause as Error).name === "ResourceNotFoundException";
        if (noValue && OPTIONAL_SECRETS.includes(name)) return undefined;
        throw new Error(`${name}_SECRET_ARN: cannot read secret ${arn}`, { cause });
      }
    }),
  );
  return { ...env, ...Object.fromEntries(values.filter((v) => v !== undefined)) };
}

/**
 * Deletes every secret variable (and its `_SECRET_ARN`) from `env` — `process.env` once the
 * config holds the values — so no child process can inherit one by accident. The kernel's copy
 * in `/proc/<pid>/environ` stays: a different uid (runner/sandbox.ts) is what protects that.
 */
export function forgetSecrets(env: NodeJS.ProcessEnv): void {
  for (const name of [...SECRET_VARIABLES, ...EXTRA_SECRET_VARIABLES]) {
    delete env[name];
    delete env[`${name}_SECRET_ARN`];
  }
}

/** Secret variables that are never fetched from Secrets Manager but are secrets all the same. */
const EXTRA_SECRET_VARIABLES = ["CLAUDE_API_KEY"] as const;

/** Forgets every cached value (tests; a process that wants rotated values without a restart). */
export function clearSecretsCache(): void {
  cache.clear();
}

function cachedValue(sm: SecretsManagerClient, arn: string, signal: AbortSignal): Promise<string> {
  let p = cache.get(arn);
  if (!p) {
    p = fetchValue(sm, arn, signal);
    cache.set(arn, p);
    p.catch(() => cache.delete(arn));
  }
  return p;
}

async function fetchValue(sm: SecretsManagerClient, arn: string, signal: AbortSignal): Promise<string> {
  const out = await sm.send(new GetSecretValueCommand({ SecretId: arn }), { abortSignal: signal });
  const value = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString("utf8") : undefined);
  if (!value?.trim()) throw new NoValueError("the secret has no value yet (set it with aws secretsmanager put-secret-value)");
  return value.trim();
}

/** `arn:aws:secretsmanager:<region>:…` → region; undefined for a bare name. */
function regionOf(arn: string): string | undefined {
  const parts = arn.split(":");
  return parts[0] === "arn" ? parts[3] : undefined;
}
