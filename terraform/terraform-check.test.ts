import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkStack, chooseProvider, offlineStack, pluginMirror, terraformVersion, VERSIONS } from "./terraform-check.ts";

const root = resolve(import.meta.dirname, "..");
const mirror = pluginMirror(process.env);
const tfVersion = await terraformVersion(process.env);
const choice = chooseProvider(mirror);
const missing = [tfVersion ? "" : "no terraform binary on PATH", choice ? "" : `no AWS provider (${VERSIONS.aws.version} or a fallback) under ${mirror}`].filter(Boolean);
const title = missing.length
  ? `terraform validate + plan of the synthesized stacks: SKIPPED, ${missing.join(" and ")}`
  : `terraform ${tfVersion} validate + plan of the synthesized dev and prod stacks with the AWS provider ${choice!.version}${choice!.version === VERSIONS.aws.version ? "" : " (6.x renames mapped back)"}`;

let work: string;
let bundleDir: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "cody-tf-check-"));
  bundleDir = mkdtempSync(join(tmpdir(), "cody-tf-bundle-"));
  writeFileSync(join(bundleDir, "bot.mjs"), "export const handler = async () => ({ statusCode: 200 });\n");
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
});

async function synthInto(outdir: string, env: NodeJS.ProcessEnv): Promise<void> {
  await promisify(execFile)(process.execPath, ["--import", "tsx", "terraform/main.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CDKTF_OUTDIR: outdir, BOT_BUNDLE_DIR: bundleDir, ALLOWED_REPOSITORIES: "acme/*", ...env },
  });
}

describe("the offline terraform check", () => {
  it("stubs every data source but the partition and maps renames back for a fallback provider", () => {
    const stack = {
      terraform: { required_providers: { aws: { source: "aws", version: "6.25.0" } }, backend: { s3: { bucket: "b" } } },
      provider: { aws: [{ region: "us-east-1" }] },
      data: { aws_caller_identity: { me: {} }, aws_partition: { p: {} }, aws_subnets: { s: {} } },
      resource: {
        aws_batch_compute_environment: { c: { name: "x", compute_resources: { subnets: "${data.aws_subnets.s.ids}" } } },
        aws_s3_bucket: { b: { bucket: "a-${data.aws_caller_identity.me.account_id}", arn: "${data.aws_partition.p.partition}" } },
      },
      output: {},
    };
    const out = offlineStack(stack, { version: "5.100.0", renames: { aws_batch_compute_environment: { name: "compute_environment_name" } } }, "/tmp/s");
    expect(out.terraform.required_providers.aws.version).toBe("5.100.0");
    expect(out.terraform.backend).toEqual({ local: { path: "/tmp/s" } });
    expect(Object.keys(out.data)).toEqual(["aws_partition"]);
    expect(out.resource.aws_batch_compute_environment.c).toEqual({ compute_environment_name: "x", compute_resources: { subnets: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] } });
    expect(out.resource.aws_s3_bucket.b).toEqual({ bucket: "a-123456789012", arn: "${data.aws_partition.p.partition}" });
    expect(out.provider.aws[0]).toMatchObject({ skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true });
  });

  it.skipIf(missing.length > 0).for([
    { name: "dev", env: { CODY_ENV: "dev" } },
    { name: "prod", env: { CODY_ENV: "prod", ALARM_EMAIL: "ops@example.com", TF_STATE_BUCKET: "acme-tf-state", SUBNET_IDS: "subnet-a,subnet-b", SECURITY_GROUP_IDS: "sg-1" } },
  ] as { name: string; env: NodeJS.ProcessEnv }[])(`${title}: $name`, { timeout: 300_000 }, async ({ name, env }) => {
    const outdir = join(work, name);
    await synthInto(outdir, env);
    const r = await checkStack(join(outdir, "stacks", `cody-batch-${name}`), { mirror, choice: choice!, env: process.env });
    expect(r.validate).toContain("The configuration is valid");
    expect(r.plan).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy/);
    const added = Number(/Plan: (\d+) to add/.exec(r.plan)![1]);
    expect(added).toBeGreaterThan(40);
  });
});
