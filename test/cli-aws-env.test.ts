/**
 * `cody … --env dev|prod` against a stand-in for AWS: dynalite as the deployed DynamoDB (endpoint
 * override), the stack's outputs in the file make deploy writes. A named AWS environment never
 * starts the embedded stack.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newJobId, newJobRows } from "../core/jobs/index.ts";
import { parseOutputs, withAwsEnvironment } from "../scripts/cli-aws-environment.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const TABLES = { DYNAMODB_JOBS_TABLE: "cody-batch-dev-jobs", DYNAMODB_REPOSITORIES_TABLE: "cody-batch-dev-repositories", ARTIFACTS_BUCKET: "cody-batch-dev-artifacts-123456789012" };
const OUTPUTS = {
  jobs_table: TABLES.DYNAMODB_JOBS_TABLE,
  repositories_table: TABLES.DYNAMODB_REPOSITORIES_TABLE,
  artifacts_bucket: TABLES.ARTIFACTS_BUCKET,
  region: "eu-west-1",
  job_queue: "cody-batch-dev-queue",
  job_definition: "arn:aws:batch:eu-west-1:123456789012:job-definition/cody-batch-dev-runner:7",
};

let aws: TestStack;
let dir: string;
let jobId: string;
beforeAll(async () => {
  aws = await startTestStack(TABLES);
  dir = mkdtempSync(join(tmpdir(), "cody-aws-env-"));
  jobId = newJobId();
  const { job, repos } = newJobRows(jobId, { type: "script", name: "Deployed job", script: "true", repositories: ["acme/one"], createdBy: "cli:ops" }, new Date());
  await aws.store.createJob(job, repos);
});
afterAll(async () => {
  await aws?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI with only what an operator's shell has: credentials, the DynamoDB endpoint standing in for AWS, an outputs file. */
function cody(args: string[], outputs: object | undefined, extra: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `outputs-${Math.random().toString(36).slice(2)}.json`);
  if (outputs) writeFileSync(file, JSON.stringify(outputs));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: "silent",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_ACCESS_KEY_ID: aws.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: aws.env.AWS_SECRET_ACCESS_KEY,
    DYNAMODB_ENDPOINT: aws.env.DYNAMODB_ENDPOINT,
    S3_ENDPOINT: aws.env.S3_ENDPOINT,
    CODY_OUTPUTS_FILE: file,
    CODY_DIR: join(dir, "embedded-never-started"),
    ...extra,
  };
  return runCli(args, env);
}

describe("cody --env", () => {
  it.for([
    { name: "make deploy's plain file", outputs: OUTPUTS },
    { name: "cdktf's --outputs-file", outputs: { "cody-batch-dev": OUTPUTS } },
    { name: "terraform output -json", outputs: Object.fromEntries(Object.entries(OUTPUTS).map(([k, value]) => [k, { value, type: "string", sensitive: false }])) },
  ])("list and status read the deployed tables named in $name", async ({ outputs }) => {
    const list = await cody(["list", "--env", "dev", "--json"], outputs);
    expect(list.stderr).not.toMatch(/error|no jobs yet/i);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { jobId: string }[]).map((j) => j.jobId)).toEqual([jobId]);
    const status = await cody(["status", jobId, "--env=dev", "--json"], outputs);
    expect(JSON.parse(status.stdout)).toMatchObject({ jobId, name: "Deployed job", repositories: [{ repositoryName: "acme/one", status: "PENDING" }] });
  });

  it("needs no queue for read-only commands", async () => {
    const { job_queue: _q, job_definition: _d, ...readOnly } = OUTPUTS;
    const r = await cody(["list", "--env", "dev"], readOnly);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(jobId);
    expect(existsSync(join(dir, "embedded-never-started"))).toBe(false);
  });

  it.for([
    { name: "no outputs file", args: ["list", "--env", "dev"], outputs: undefined, text: "--env dev: no outputs of cody-batch-dev at" },
    { name: "an unknown environment", args: ["list", "--env", "staging"], outputs: OUTPUTS, text: '--env: must be dev or prod, got "staging"' },
    { name: "a command that cannot run on AWS", args: ["demo", "--env", "dev"], outputs: OUTPUTS, text: '--env: works with list, status, watchdog, run, cancel, not "demo"' },
    { name: "run without a queue in the outputs", args: ["run", "--env", "dev", "--repo", "acme/one", "--script", "true"], outputs: { jobs_table: "t", repositories_table: "r", artifacts_bucket: "b" }, text: "lacks job_queue, job_definition" },
  ])("exits 2 and never starts the embedded stack with $name", async ({ args, outputs, text }) => {
    const r = await cody(args, outputs);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(text);
    expect(r.stdout).not.toContain("no jobs yet");
    expect(existsSync(join(dir, "embedded-never-started"))).toBe(false);
  });

  it("sets the Batch launcher from the outputs for run and cancel, and nothing else changes without the flag", () => {
    const file = join(dir, "outputs-direct.json");
    writeFileSync(file, JSON.stringify(OUTPUTS));
    const { argv, env } = withAwsEnvironment(["cancel", "--env", "prod", "j-1"], { CODY_OUTPUTS_FILE: file, LAUNCHER: "local" });
    expect(argv).toEqual(["cancel", "j-1"]);
    expect(env).toMatchObject({ CODY_ENV: "prod", LAUNCHER: "batch", AWS_BATCH_JOB_QUEUE: OUTPUTS.job_queue, AWS_BATCH_JOB_DEFINITION: OUTPUTS.job_definition, AWS_REGION: "eu-west-1" });
    const same = { LAUNCHER: "local" };
    expect(withAwsEnvironment(["list"], same)).toEqual({ argv: ["list"], env: same });
    expect(parseOutputs(JSON.stringify({ x: 1, y: "s" }), "cody-batch-dev")).toEqual({ y: "s" });
  });
});
