/**
 * The orchestrating process of the 1000-repository benchmark (started by job1000.ts): submits a
 * script job the way the CLI does, runs every repository in-process through runRepo on the local
 * launcher, and reports through the Slack notifier (grouped replies, coalesced root updates)
 * against the fake Slack the parent runs. Every DynamoDB request of this process is counted:
 * creation (submitJob) apart from the rest (runners and notifier). Prints one JSON line.
 *
 * Environment: the stack's variables, SLACK_BOT_TOKEN, SLACK_API_URL, GIT_BASE_URL,
 * BENCH_REPOS (names, comma-separated), BENCH_CONCURRENCY, WORK_DIR.
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { loadConfig } from "../../core/config/index.ts";
import { newArtifacts } from "../../core/jobs/index.ts";
import { newJobId, validateJobRequest } from "../../core/jobs/index.ts";
import { newLocalLauncher } from "../../core/launch/index.ts";
import { newLogger } from "../../core/runtime/index.ts";
import { newDynamoClient, newStore, type RequestCounter } from "../../core/jobs/index.ts";
import { newSlackClient, newSlackNotifier } from "../../bot/slack-notifier.ts";
import { submitJob } from "../../core/launch/index.ts";
import { newLinkBuilder } from "../../bot/links.ts";
import { runRepo } from "../../runner/run-repo.ts";
import { newRunnerDeps } from "../../runner/wiring.ts";
import { SCRIPT } from "./fixtures.ts";

const env = process.env;
const config = loadConfig(env);
const log = newLogger({ level: env.LOG_LEVEL ?? "silent" });
const names = (env.BENCH_REPOS ?? "").split(",").filter(Boolean);
const concurrency = Number(env.BENCH_CONCURRENCY ?? 8);

const create: RequestCounter = { count: 0 };
const run: RequestCounter = { count: 0 };
const artifacts = newArtifacts(config);
const runDynamo = newDynamoClient(config, run);
const runStore = newStore(config, runDynamo);
const notifier = newSlackNotifier({
  client: newSlackClient(config),
  doc: DynamoDBDocumentClient.from(runDynamo, { marshallOptions: { removeUndefinedValues: true } }),
  tables: { jobsTable: config.jobsTable, reposTable: config.reposTable },
  store: runStore,
  links: newLinkBuilder({ publicUrl: config.botPublicUrl, signingSecret: config.linkSecret, artifacts }),
  log,
});
const deps = newRunnerDeps(config, log, { notifier, dynamoCounter: run });
const launcher = newLocalLauncher({
  concurrency,
  maxAttempts: config.maxAttempts,
  log,
  executor: (jobId, index, attempt, signal) => runRepo(deps, { jobId, index, attempt }, signal),
});

const checked = validateJobRequest(
  { type: "script", name: "Bump version in 1000 repositories", script: SCRIPT, repositories: names, createdBy: "UBENCH", slack: { teamId: "T1", channel: "CBENCH" } },
  "any",
);
if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
const jobId = newJobId();
const t0 = performance.now();
const submitStore = newStore(config, newDynamoClient(config, create));
// Runners start as soon as the launcher has the job; count creation on its own client.
await submitJob({ store: submitStore, launcher, notifier, log }, { jobId, request: checked.request });
await launcher.whenIdle(jobId);
const wallS = (performance.now() - t0) / 1000;
const job = await newStore(config).getJob(jobId);
process.stdout.write(
  `${JSON.stringify({
    jobId,
    wallS,
    status: job?.status,
    counters: job?.counters,
    threadTs: job?.slack?.threadTs,
    channel: job?.slack?.channel,
    createRequests: create.count,
    runRequests: run.count,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
process.exit(0);
