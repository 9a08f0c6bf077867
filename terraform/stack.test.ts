import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableDefinitions } from "../core/jobs/index.ts";
import { settingsFromEnv } from "./settings.ts";
import { allStatements, asList, bundleDir, LEAKY_ENV, one, PROD_ENV, ref, resources, synth, type Json } from "./test-synth.ts";
import versions from "./versions.json" with { type: "json" };

describe("the default dev stack", () => {
  let json: Json;
  let text: string;
  beforeAll(() => ({ json, text } = synth()));

  it("has both tables exactly as core/jobs/store.ts defines them, with TTL, PITR and encryption", () => {
    const defs = tableDefinitions({ jobsTable: "cody-batch-dev-jobs", reposTable: "cody-batch-dev-repositories" });
    const tables = resources(json, "aws_dynamodb_table");
    expect(tables.map((t) => t.name).sort()).toEqual(defs.map((d) => d.TableName).sort());
    for (const def of defs) {
      const t = tables.find((x) => x.name === def.TableName)!;
      const key = (schema: typeof def.KeySchema, type: string) => schema?.find((k) => k.KeyType === type)?.AttributeName;
      expect(t.billing_mode).toBe("PAY_PER_REQUEST");
      expect(t.hash_key).toBe(key(def.KeySchema, "HASH"));
      expect(t.range_key).toBe(key(def.KeySchema, "RANGE"));
      expect(new Set(t.attribute)).toEqual(new Set(def.AttributeDefinitions!.map((a) => ({ name: a.AttributeName, type: a.AttributeType }))));
      expect(t.global_secondary_index).toEqual(
        def.GlobalSecondaryIndexes?.map((g) => ({
          name: g.IndexName,
          hash_key: key(g.KeySchema, "HASH"),
          ...(key(g.KeySchema, "RANGE") ? { range_key: key(g.KeySchema, "RANGE") } : {}),
          projection_type: "ALL",
        })),
      );
      expect(t.ttl).toEqual({ attribute_name: "expiresAt", enabled: true });
      expect(t.point_in_time_recovery).toEqual({ enabled: true });
      expect(t.server_side_encryption).toEqual({ enabled: true });
    }
    const jobs = tables.find((t) => t.name === "cody-batch-dev-jobs")!;
    expect(jobs.hash_key).toBe("jobId");
    expect(jobs.global_secondary_index[0]).toMatchObject({ name: "status-createdAt-index", hash_key: "status", range_key: "createdAt" });
    const repos = tables.find((t) => t.name === "cody-batch-dev-repositories")!;
    expect([repos.hash_key, repos.range_key]).toEqual(["jobId", "repositoryName"]);
    // No status-index: nothing queries repositories by status, and it would double every heartbeat write.
    expect(repos.global_secondary_index).toBeUndefined();
    expect(repos.attribute.map((a: Json) => a.name).sort()).toEqual(["jobId", "repositoryName"]);
  });

  it("blocks all public access to the bucket, encrypts it, expires objects and refuses plain HTTP", () => {
    const bucket = ref(json, "aws_s3_bucket", "id");
    expect(one(json, "aws_s3_bucket_public_access_block")).toMatchObject({
      bucket,
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(one(json, "aws_s3_bucket_server_side_encryption_configuration")).toMatchObject({
      bucket,
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    });
    const rule = one(json, "aws_s3_bucket_lifecycle_configuration").rule[0];
    expect(rule).toMatchObject({ status: "Enabled", expiration: [{ days: 30 }] });
    const policy = JSON.parse(one(json, "aws_s3_bucket_policy").policy);
    expect(policy.Statement).toContainEqual(expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }));
  });

  it("grants no wildcard action and a wildcard resource only where AWS allows nothing narrower", () => {
    const statements = allStatements(json).filter((st) => st.Effect === "Allow");
    expect(statements.length).toBeGreaterThan(10);
    for (const st of statements) {
      for (const action of asList(st.Action)) expect(action, JSON.stringify(st)).not.toContain("*");
      if (asList(st.Resource).includes("*")) {
        expect(asList(st.Action).every((a) => ["ecr:GetAuthorizationToken", "batch:DescribeJobs", "batch:ListJobs"].includes(a)), JSON.stringify(st)).toBe(true);
      }
    }
  });

  it("contains no secret value, and no secret variable outside Secrets Manager references", () => {
    for (const value of Object.values(LEAKY_ENV)) expect(text).not.toContain(value);
    expect(text).not.toMatch(/xox[bpa]-|ghp_|github_pat_|sk-ant-|BEGIN [A-Z ]*PRIVATE KEY/);
    expect(json.resource.aws_secretsmanager_secret_version).toBeUndefined();
    const lambdaEnv = one(json, "aws_lambda_function").environment.variables as Record<string, string>;
    const container = JSON.parse(one(json, "aws_batch_job_definition").container_properties);
    const envNames = [...Object.keys(lambdaEnv), ...container.environment.map((e: { name: string }) => e.name)];
    for (const name of Object.keys(LEAKY_ENV)) expect(envNames).not.toContain(name);
    for (const [name, value] of Object.entries(lambdaEnv)) {
      if (name.endsWith("_SECRET_ARN")) expect(value).toMatch(/^\$\{aws_secretsmanager_secret\.[^.]+\.arn\}$/);
    }
  });

  it("runs the runner on Fargate with its secrets injected from Secrets Manager and a retry strategy ending in *", () => {
    const def = one(json, "aws_batch_job_definition");
    expect(def).toMatchObject({ name: "cody-batch-dev-runner", type: "container", platform_capabilities: ["FARGATE"], timeout: { attempt_duration_seconds: 3600 } });
    const container = JSON.parse(def.container_properties);
    expect(container.resourceRequirements).toEqual([
      { type: "VCPU", value: "2" },
      { type: "MEMORY", value: "4096" },
    ]);
    // Only the secrets every job needs are injected at task start; the Anthropic key and the link
    // secret are read by the runner itself (an empty one fails no script job's start).
    expect(container.secrets).toEqual(
      ["SLACK_BOT_TOKEN", "GITHUB_TOKEN"].map((name) => ({
        name,
        valueFrom: ref(json, "aws_secretsmanager_secret", "arn", (r) => r.name === `cody-batch-dev-${name.toLowerCase().replace(/_/g, "-")}`),
      })),
    );
    expect(container.executionRoleArn).toBe(ref(json, "aws_iam_role", "arn", (r) => r.name === "cody-batch-dev-runner-execution"));
    // Sandboxed commands' orphans are reaped; the image's user (root) is not overridden.
    expect(container.linuxParameters).toEqual({ initProcessEnabled: true });
    expect(container.user).toBeUndefined();
    expect(container.logConfiguration.options["awslogs-group"]).toBe(ref(json, "aws_cloudwatch_log_group", "name", (r) => r.name === "/aws/batch/cody-batch-dev-runner"));
    const rules = def.retry_strategy.evaluate_on_exit as Json[];
    expect(def.retry_strategy.attempts).toBe(3);
    expect(rules.length).toBeLessThanOrEqual(5);
    expect(rules.at(-1)).toEqual({ action: "EXIT", on_status_reason: "*" });
    expect(rules).toContainEqual({ action: "RETRY", on_exit_code: "*" });
    expect(rules[0]).toEqual({ action: "EXIT", on_status_reason: "Cody cancelled*" });
    // The execution role may read exactly the runner's secrets.
    const secretArn = (n: string) => ref(json, "aws_secretsmanager_secret", "arn", (r) => r.name === `cody-batch-dev-${n}`);
    const reads = (sid: string) => asList(allStatements(json).find((st) => (st as { Sid?: string }).Sid === sid)?.Resource);
    expect(reads("InjectSecrets")).toEqual([secretArn("slack-bot-token"), secretArn("github-token")]);
    expect(reads("OptionalSecrets")).toEqual([secretArn("anthropic-api-key"), secretArn("link-signing-secret")]);
    const envOf = Object.fromEntries(container.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(envOf).toMatchObject({
      ANTHROPIC_API_KEY_SECRET_ARN: secretArn("anthropic-api-key"),
      LINK_SIGNING_SECRET_SECRET_ARN: secretArn("link-signing-secret"),
      BOT_PUBLIC_URL: ref(json, "aws_apigatewayv2_api", "api_endpoint"),
    });
    expect(def.propagate_tags).toBe(true);
    expect(one(json, "aws_batch_compute_environment").compute_resources).toMatchObject({ type: "FARGATE", max_vcpus: 64 });
    expect(one(json, "aws_batch_job_queue").compute_environment_order[0].compute_environment).toBe(ref(json, "aws_batch_compute_environment", "arn"));
  });

  it("runs the bot on Node.js 22 arm64 with the variables it needs, a dead-letter queue and self-invocation", () => {
    const fn = one(json, "aws_lambda_function");
    expect(fn).toMatchObject({ function_name: "cody-batch-dev-bot", runtime: "nodejs22.x", architectures: ["arm64"], handler: "bot.handler" });
    expect(fn.environment.variables).toMatchObject({
      LAUNCHER: "batch",
      CODY_ENV: "dev",
      ALLOWED_REPOSITORIES: "acme/*",
      DYNAMODB_JOBS_TABLE: ref(json, "aws_dynamodb_table", "name", (r) => r.name === "cody-batch-dev-jobs"),
      DYNAMODB_REPOSITORIES_TABLE: ref(json, "aws_dynamodb_table", "name", (r) => r.name === "cody-batch-dev-repositories"),
      ARTIFACTS_BUCKET: ref(json, "aws_s3_bucket", "bucket"),
      AWS_BATCH_JOB_QUEUE: ref(json, "aws_batch_job_queue", "arn"),
      AWS_BATCH_JOB_DEFINITION: ref(json, "aws_batch_job_definition", "arn"),
      SLACK_BOT_TOKEN_SECRET_ARN: expect.any(String),
      SLACK_SIGNING_SECRET_SECRET_ARN: expect.any(String),
      GITHUB_TOKEN_SECRET_ARN: expect.any(String),
      LINK_SIGNING_SECRET_SECRET_ARN: expect.any(String),
      BOT_PUBLIC_URL: ref(json, "aws_apigatewayv2_api", "api_endpoint"),
    });
    expect(fn.environment.variables.ANTHROPIC_API_KEY_SECRET_ARN).toBeUndefined(); // the bot never calls Claude
    expect(one(json, "aws_lambda_function_event_invoke_config").destination_config).toEqual({
      on_failure: { destination: ref(json, "aws_sqs_queue", "arn") },
    });
    const invoke = allStatements(json).find((st) => asList(st.Action).includes("lambda:InvokeFunction"));
    expect(asList(invoke?.Resource)).toEqual([expect.stringMatching(/:function:cody-batch-dev-bot$/)]);
    expect(resources(json, "aws_lambda_permission").find((p) => p.principal === "apigateway.amazonaws.com")).toMatchObject({ action: "lambda:InvokeFunction" });
    expect(resources(json, "aws_apigatewayv2_route").map((r) => r.route_key).sort()).toEqual(["GET /health", "GET /jobs/assets/{file}", "GET /jobs/{token}", "GET /links/{token}", "POST /slack/events"]);
    // The job pages reach the bot Lambda through the same proxy integration as Slack's events.
    const integration = `integrations/${ref(json, "aws_apigatewayv2_integration", "id")}`;
    expect(resources(json, "aws_apigatewayv2_route").filter((r) => String(r.route_key).startsWith("GET /jobs/")).map((r) => r.target)).toEqual([integration, integration]);
    expect(json.output.bot_url.value).toBe(`${ref(json, "aws_apigatewayv2_api", "api_endpoint")}/slack/events`);
  });

  it("runs the watchdog on the bot every 5 minutes through an EventBridge schedule", () => {
    const isWatchdog = (r: Json) => r.schedule_expression !== undefined;
    const rule = resources(json, "aws_cloudwatch_event_rule").find(isWatchdog);
    expect(rule).toMatchObject({ name: "cody-batch-dev-watchdog", schedule_expression: "rate(5 minutes)" });
    expect(resources(json, "aws_cloudwatch_event_target").find((t) => t.arn === ref(json, "aws_lambda_function", "arn"))).toMatchObject({
      rule: ref(json, "aws_cloudwatch_event_rule", "name", isWatchdog),
    });
    expect(resources(json, "aws_lambda_permission").find((p) => p.principal === "events.amazonaws.com")).toMatchObject({
      action: "lambda:InvokeFunction",
      source_arn: ref(json, "aws_cloudwatch_event_rule", "arn", isWatchdog),
    });
  });

  it("keeps logs for a bounded time", () => {
    const groups = resources(json, "aws_cloudwatch_log_group");
    expect(groups.map((g) => g.name).sort()).toEqual(["/aws/apigateway/cody-batch-dev-bot", "/aws/batch/cody-batch-dev-runner", "/aws/lambda/cody-batch-dev-bot"]);
    for (const g of groups) expect(g.retention_in_days).toBe(30);
  });

  it("wires every alarm and the Batch failure rule to the SNS topic", () => {
    const topic = ref(json, "aws_sns_topic", "arn");
    const alarms = resources(json, "aws_cloudwatch_metric_alarm");
    expect(alarms.map((a) => a.alarm_name).sort()).toEqual(
      ["api-5xx", "bot-dead-letters", "bot-errors", "bot-throttles", "failed-repositories", "jobs-throttles", "repositories-throttles", "watchdog-errors"].map(
        (n) => `cody-batch-dev-${n}`,
      ),
    );
    for (const a of alarms) expect(a.alarm_actions).toEqual([topic]);
    const rule = resources(json, "aws_cloudwatch_event_rule").find((r) => r.event_pattern)!;
    const pattern = JSON.parse(rule.event_pattern);
    expect(pattern).toMatchObject({ source: ["aws.batch"], detail: { status: ["FAILED"], jobQueue: [ref(json, "aws_batch_job_queue", "arn")] } });
    expect(resources(json, "aws_cloudwatch_event_target").filter((t) => t.arn === topic)).toHaveLength(1);
    expect(json.resource.aws_sns_topic_subscription).toBeUndefined();
  });

  it("uses the default VPC, local state and names every output the operator needs", () => {
    expect(json.data.aws_vpc).toBeDefined();
    expect(json.terraform.backend.local.path).toMatch(/terraform\.cody-batch-dev\.tfstate$|\.tfstate$/);
    expect(Object.keys(json.output)).toEqual(
      expect.arrayContaining(["bot_url", "jobs_table", "repositories_table", "artifacts_bucket", "job_queue", "job_definition", "runner_repository_url", "alarm_topic"]),
    );
  });
});

describe("settings change the stack", () => {
  it("prod: prod names, deletion protection, an e-mail subscription, S3 state with locking", () => {
    const { json } = synth(PROD_ENV);
    expect(resources(json, "aws_dynamodb_table").map((t) => [t.name, t.deletion_protection_enabled])).toEqual([
      ["cody-batch-prod-jobs", true],
      ["cody-batch-prod-repositories", true],
    ]);
    expect(one(json, "aws_sns_topic_subscription")).toMatchObject({ protocol: "email", endpoint: "ops@example.com" });
    expect(json.terraform.backend.s3).toMatchObject({ bucket: "acme-tf-state", key: "cody-batch/prod/terraform.tfstate", encrypt: true, use_lockfile: true });
  });

  it("given subnets and security groups replace the default VPC", () => {
    const { json } = synth({ SUBNET_IDS: "subnet-a,subnet-b", SECURITY_GROUP_IDS: "sg-1" });
    expect(json.data?.aws_vpc).toBeUndefined();
    expect(json.resource.aws_security_group).toBeUndefined();
    expect(one(json, "aws_batch_compute_environment").compute_resources).toMatchObject({ subnets: ["subnet-a", "subnet-b"], security_group_ids: ["sg-1"] });
    expect(JSON.parse(one(json, "aws_batch_job_definition").container_properties).networkConfiguration).toEqual({ assignPublicIp: "DISABLED" });
  });

  it("GITHUB_AUTH=app swaps the token secret for the App key", () => {
    const { json } = synth({ GITHUB_AUTH: "app", GITHUB_APP_ID: "12345" });
    const names = resources(json, "aws_secretsmanager_secret").map((r) => r.name);
    expect(names).toContain("cody-batch-dev-github-app-private-key");
    expect(names).not.toContain("cody-batch-dev-github-token");
    expect(one(json, "aws_lambda_function").environment.variables).toMatchObject({ GITHUB_APP_ID: "12345", GITHUB_APP_PRIVATE_KEY_SECRET_ARN: expect.any(String) });
  });

  it.for([
    { env: { CODY_ENV: "staging" }, want: /^CODY_ENV: must be dev or prod/ },
    { env: { RUNNER_MEMORY_MIB: "1024" }, want: /^RUNNER_MEMORY_MIB: Fargate needs 4096–16384 in steps of 1024 MiB for 2 vCPU, got 1024/ },
    { env: { LOG_RETENTION_DAYS: "10" }, want: /^LOG_RETENTION_DAYS: CloudWatch accepts/ },
    { env: { GITHUB_AUTH: "app" }, want: /^GITHUB_APP_ID:/ },
    { env: { RUNNER_ATTEMPTS: "11" }, want: /^RUNNER_ATTEMPTS: must be a whole number from 1 to 10/ },
  ])("rejects $env with a message naming the setting", ({ env, want }) => {
    expect(() => settingsFromEnv(env)).toThrow(want);
  });
});

describe("make synth", () => {
  const root = resolve(import.meta.dirname, "..");
  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), "cody-synth-"));
    mkdirSync(outdir, { recursive: true });
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it("writes plain Terraform JSON offline from the app entry", async () => {
    const { stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "terraform/main.ts"], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CDKTF_OUTDIR: outdir, CODY_ENV: "dev", BOT_BUNDLE_DIR: bundleDir },
    });
    expect(stderr).not.toContain("Error");
    const json = JSON.parse(readFileSync(join(outdir, "stacks/cody-batch-dev/cdk.tf.json"), "utf8")) as Json;
    expect(json.terraform.required_providers.aws).toEqual({ source: versions.aws.source, version: versions.aws.version });
    expect(json.terraform.required_version).toBe(versions.terraform);
    // Local state relative to the stack directory (in terraform/, kept by make clean), never an absolute path.
    expect(json.terraform.backend.local.path).toBe("../../../terraform.cody-batch-dev.tfstate");
    expect(one(json, "aws_lambda_function").filename).toMatch(/^assets\/.+\/archive\.zip$/);
  });
});
