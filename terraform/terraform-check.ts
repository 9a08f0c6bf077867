/**
 * The offline Terraform check: takes a synthesized stack directory (cdk.tf.json + assets), and
 * runs `terraform init` against a filesystem mirror of providers (no network), `terraform
 * validate` and `terraform plan` with fake credentials. Data sources are stubbed with fixed
 * values (they would call AWS), every AWS endpoint points at an unroutable loopback port, and
 * when only an older provider is installed the 6.x attribute renames of terraform/versions.json
 * are mapped back. Used by terraform/terraform-check.test.ts.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import versions from "./versions.json" with { type: "json" };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The pinned versions (terraform/versions.json). */
export const VERSIONS = versions;

/** Where Terraform finds providers offline: TF_PLUGIN_MIRROR, else /opt/tf-plugins. */
export function pluginMirror(env: NodeJS.ProcessEnv): string {
  return env.TF_PLUGIN_MIRROR ?? "/opt/tf-plugins";
}

/** The terraform binary's version, or undefined when there is none on PATH. */
export async function terraformVersion(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)("terraform", ["version", "-json"], { env });
    return (JSON.parse(stdout) as { terraform_version: string }).terraform_version;
  } catch {
    return undefined;
  }
}

/** A provider the check can use: the pinned version, or a fallback with its renames. */
export type ProviderChoice = { version: string; renames: Record<string, Record<string, string>> };

/** The pinned AWS provider when the mirror holds it, else the first fallback it holds, else undefined. */
export function chooseProvider(mirror: string): ProviderChoice | undefined {
  const dir = join(mirror, "registry.terraform.io", VERSIONS.aws.source);
  const present = existsSync(dir) ? readdirSync(dir) : [];
  if (present.includes(VERSIONS.aws.version)) return { version: VERSIONS.aws.version, renames: {} };
  const fallback = VERSIONS.fallbacks.find((f) => present.includes(f.version));
  return fallback ? { version: fallback.version, renames: fallback.renames } : undefined;
}

/** Fixed values for the data sources the stack reads (they would call AWS). */
const DATA_STUBS: Record<string, Record<string, unknown>> = {
  aws_caller_identity: { account_id: "123456789012" },
  aws_vpc: { id: "vpc-0123456789abcdef0" },
  aws_subnets: { ids: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
  aws_subnet: { vpc_id: "vpc-0123456789abcdef0" },
};

/**
 * The stack JSON made checkable offline: provider version `choice`, its renames applied, data
 * sources (but aws_partition, which is local) replaced by {@link DATA_STUBS}, a local backend in
 * `stateFile`, and a provider that never asks AWS anything.
 */
export function offlineStack(stack: Json, choice: ProviderChoice, stateFile: string): Json {
  const json = structuredClone(stack);
  json.terraform.required_providers.aws.version = choice.version;
  json.terraform.backend = { local: { path: stateFile } };
  for (const [type, attrs] of Object.entries(choice.renames)) {
    for (const r of Object.values((json.resource?.[type] ?? {}) as Record<string, Json>)) {
      for (const [from, to] of Object.entries(attrs)) {
        if (from in r) {
          r[to] = r[from];
          delete r[from];
        }
      }
    }
  }
  const stubbed = new Map<string, unknown>();
  for (const [type, byName] of Object.entries((json.data ?? {}) as Record<string, Record<string, unknown>>)) {
    if (type === "aws_partition") continue;
    const attrs = DATA_STUBS[type];
    if (!attrs) throw new Error(`terraform check: no stub for data source ${type}; add one to DATA_STUBS`);
    for (const name of Object.keys(byName)) {
      for (const [attr, value] of Object.entries(attrs)) stubbed.set(`data.${type}.${name}.${attr}`, value);
      delete byName[name];
    }
    delete json.data[type];
  }
  const replace = (v: unknown): unknown => {
    if (typeof v === "string") {
      const whole = /^\$\{([^{}]+)\}$/.exec(v);
      if (whole && stubbed.has(whole[1]!)) return stubbed.get(whole[1]!);
      return v.replace(/\$\{(data\.[^{}]+)\}/g, (m, ref: string) => (stubbed.has(ref) ? String(stubbed.get(ref)) : m));
    }
    if (Array.isArray(v)) return v.map(replace);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    return v;
  };
  json.resource = replace(json.resource);
  json.output = replace(json.output);
  const nowhere = "http://127.0.0.1:9";
  for (const p of json.provider.aws as Json[]) {
    Object.assign(p, {
      access_key: "AKIAFAKEFAKEFAKEFAKE",
      secret_key: "fake-secret-key-for-an-offline-plan",
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: true,
      endpoints: [Object.fromEntries(["sts", "iam", "ec2", "s3", "dynamodb", "lambda", "batch"].map((s) => [s, nowhere]))],
    });
  }
  return json;
}

/** What one check found: each step's combined output. */
export type CheckResult = { init: string; validate: string; plan: string };

/**
 * Runs init, validate and plan in `stackDir` (its cdk.tf.json rewritten by {@link offlineStack}).
 * Throws with Terraform's output when a step fails.
 */
export async function checkStack(stackDir: string, opts: { mirror: string; choice: ProviderChoice; env: NodeJS.ProcessEnv }): Promise<CheckResult> {
  const file = join(stackDir, "cdk.tf.json");
  const stack = JSON.parse(readFileSync(file, "utf8")) as Json;
  writeFileSync(file, JSON.stringify(offlineStack(stack, opts.choice, join(stackDir, "check.tfstate")), null, 2));
  const rc = join(stackDir, "check.tfrc");
  writeFileSync(
    rc,
    `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(opts.mirror)}\n  }\n  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n`,
  );
  const env = {
    PATH: opts.env.PATH,
    HOME: opts.env.HOME,
    TF_CLI_CONFIG_FILE: rc,
    TF_IN_AUTOMATION: "1",
    CHECKPOINT_DISABLE: "1",
    TF_DATA_DIR: join(stackDir, ".terraform"),
  };
  const run = async (args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)("terraform", [`-chdir=${stackDir}`, ...args, "-no-color"], { env, maxBuffer: 64 * 1024 * 1024 });
      return stdout + stderr;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`terraform ${args[0]} failed:\n${e.stdout ?? ""}${e.stderr ?? e.message}`);
    }
  };
  const init = await run(["init", "-input=false"]);
  const validate = await run(["validate"]);
  const plan = await run(["plan", "-input=false", "-lock=false", "-refresh=false"]);
  return { init, validate, plan };
}
