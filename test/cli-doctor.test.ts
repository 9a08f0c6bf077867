/**
 * `cody doctor --env dev` (issue 23) against stand-ins for AWS: the embedded stack as DynamoDB and
 * S3 (endpoint override), the Batch and Secrets Manager fakes through the SDK's own
 * AWS_ENDPOINT_URL_<SERVICE> variables, the stack's outputs in a file. Each daily and weekly
 * check prints its result; a required secret without a value fails the run (exit 1).
 */
import { BatchClient } from "@aws-sdk/client-batch";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newJobId, newJobRows } from "../core/jobs/index.ts";
import { newBatchLauncher } from "../core/launch/index.ts";
import { startFakeBatch, type FakeBatch } from "./fakes/batch.ts";
import { startFakeSecretsManager, type FakeSecretsManager } from "./fakes/secrets-manager.ts";
import { runCli } from "./support/cli.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const TABLES = { DYNAMODB_JOBS_TABLE: "cody-batch-dev-jobs", DYNAMODB_REPOSITORIES_TABLE: "cody-batch-dev-repositories", ARTIFACTS_BUCKET: "cody-batch-dev-artifacts-123456789012" };
const ARN = (n: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:cody-batch-dev-${n}-AbCdEf`;
const OUTPUTS = {
  jobs_table: TABLES.DYNAMODB_JOBS_TABLE,
  repositories_table: TABLES.DYNAMODB_REPOSITORIES_TABLE,
  artifacts_bucket: TABLES.ARTIFACTS_BUCKET,
  region: "us-east-1",
  job_queue: "cody-batch-dev-queue",
  backup_vault: "cody-batch-dev-backups",
  secret_slack_bot_token: ARN("slack-bot-token"),
  secret_github_token: ARN("github-token"),
  secret_link_signing_secret: ARN("link-signing-secret"),
};

let aws: TestStack;
let batch: FakeBatch;
let secrets: FakeSecretsManager;
let dir: string;
let queuedJob: string;

beforeAll(async () => {
  aws = await startTestStack(TABLES);
  const threeHoursAgo = Date.now() - 3 * 3600_000;
  batch = await startFakeBatch({ now: () => threeHoursAgo });
  secrets = await startFakeSecretsManager({ [ARN("slack-bot-token")]: "xoxb-doctor-test-value" });
  dir = mkdtempSync(join(tmpdir(), "cody-doctor-"));
  queuedJob = newJobId();
  const { job, repos } = newJobRows(queuedJob, { type: "script", name: "Queued", script: "true", repositories: ["acme/a", "acme/b"], createdBy: "cli:ops" }, new Date(threeHoursAgo));
  await aws.store.createJob(job, repos);
  const client = new BatchClient({ endpoint: batch.url, region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" } });
  const { batchJobId } = await newBatchLauncher({ env: "dev", region: "us-east-1", batchJobQueue: OUTPUTS.job_queue, batchJobDefinition: "d" }, client).submit(job);
  await aws.store.setJobFields(queuedJob, { batchJobId });
  batch.setStatus(batchJobId, "RUNNABLE", true);
});
afterAll(async () => {
  await batch?.close();
  await secrets?.close();
  await aws?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function doctor(args: string[]) {
  const file = join(dir, "outputs-dev.json");
  writeFileSync(file, JSON.stringify(OUTPUTS));
  return runCli(["doctor", "--env", "dev", ...args], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: "silent",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_ACCESS_KEY_ID: aws.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: aws.env.AWS_SECRET_ACCESS_KEY,
    // The embedded stack answers only requests signed with its own credentials (environment/stack-auth.ts).
    CODY_STACK_ACCESS_KEY_ID: aws.env.CODY_STACK_ACCESS_KEY_ID,
    CODY_STACK_SECRET_ACCESS_KEY: aws.env.CODY_STACK_SECRET_ACCESS_KEY,
    DYNAMODB_ENDPOINT: aws.env.DYNAMODB_ENDPOINT,
    S3_ENDPOINT: aws.env.S3_ENDPOINT,
    AWS_ENDPOINT_URL_BATCH: batch.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    CODY_OUTPUTS_FILE: file,
    CODY_DIR: join(dir, "embedded-never-started"),
  });
}

describe("cody doctor --env dev", () => {
  it("prints each daily and weekly check with its result and fails on a required secret without a value", async () => {
    const r = await doctor(["--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as { period: string; name: string; status: string; detail: string }[];
    const by = Object.fromEntries(results.map((x) => [x.name, x]));
    expect(results.map((x) => `${x.period}/${x.name}`)).toEqual([
      "daily/tables",
      "daily/stuck jobs",
      "daily/batch queue",
      "daily/campaign actions",
      "daily/artifacts bucket",
      "daily/secrets",
      "daily/alarms",
      "daily/dead letters",
      "weekly/failed repositories",
      "weekly/backups",
      "weekly/cost",
    ]);
    expect(by.tables).toMatchObject({ status: "ok", detail: "reachable; 1 unfinished job" });
    expect(by["batch queue"]).toMatchObject({ status: "warn", detail: `queued over 2 h: ${queuedJob} (RUNNABLE, 2 waiting)` });
    expect(by["artifacts bucket"]).toEqual({ period: "daily", name: "artifacts bucket", status: "ok", detail: `${TABLES.ARTIFACTS_BUCKET} reachable` });
    expect(by.secrets).toMatchObject({ status: "FAIL", detail: expect.stringContaining("no value: GITHUB_TOKEN") });
    expect(by.backups).toMatchObject({ status: "manual", detail: expect.stringContaining("--backup-vault-name cody-batch-dev-backups") });
    expect(r.stdout).not.toContain("xoxb-doctor-test-value");
    // Batch was asked about the job's array.
    expect(batch.requests.some((q) => q.operation === "describejobs")).toBe(true);
  });

  it("passes once every required secret holds a value, printing one line per check", async () => {
    secrets.secrets.set(ARN("github-token"), "ghp_doctor");
    const r = await doctor([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[daily\] warn   secrets: optional, no value: LINK_SIGNING_SECRET$/m);
    expect(r.stdout).toMatch(/^\[weekly\] ok     failed repositories: 0 of 2 repositories FAILED in 7 days/m);
    expect(r.stdout.trim().split("\n")).toHaveLength(11);
  });

  it("refuses to run without --env (exit 2)", async () => {
    const r = await runCli(["doctor"], { PATH: process.env.PATH, HOME: process.env.HOME, CODY_DIR: join(dir, "x") });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("doctor checks a deployed stack: give --env dev or --env prod");
  });
});
