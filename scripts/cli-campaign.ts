/**
 * The campaign commands of the `cody` CLI (issue 12): refresh, publish, retry, update, merge,
 * close. Loaded by scripts/cody.ts on demand. Same store and launcher as `cody run`; relaunching
 * commands (publish, retry, update) wait for their runners like `cody run` does.
 * Exit codes: 0 nothing failed, 1 some repository failed, 2 bad input or the action was refused.
 */
import { parseArgs } from "node:util";
import { loadConfig, secretValues, type Config } from "../core/config/index.ts";
import type { ActionOutcome, CampaignDeps } from "../core/campaign/index.ts";
import { publishJob, retryJob } from "../core/campaign/index.ts";
import { runActionChunk, type ChunkDeps, type ChunkTask } from "../core/campaign/index.ts";
import { hasGitHub, newCampaignDeps, noGitHubReason } from "../core/campaign/index.ts";
import type { MergeMethod } from "../core/campaign/index.ts";
import { isTerminalRepo, type Job } from "../core/jobs/index.ts";
import { newLogger, type Logger } from "../core/runtime/index.ts";
import { newPrReader, octokitPerOwner, refreshJob } from "../core/github/index.ts";
import { newSlackNotifierFromConfig } from "../bot/slack-notifier.ts";
import { actionSummaryMessage, actionSummaryText, burndownText } from "../bot/messages/campaign.ts";
import { openEnvironment, type CliEnvironment } from "../environment/index.ts";
import { printFinalTable, watchJob } from "./cli-display.ts";
import { noJob, UsageError } from "./cli-usage-error.ts";

/** Commands that talk to GitHub and refuse (exit 2) without credentials. */
const NEEDS_GITHUB = new Set(["refresh", "update", "merge", "close"]);

/** Runs campaign command `command` with `args`; returns the exit code. Throws UsageError for bad input. */
export async function campaignMain(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      json: { type: "boolean" },
      draft: { type: "boolean" },
      failed: { type: "boolean" },
      repo: { type: "string", multiple: true },
      all: { type: "boolean" },
      method: { type: "string" },
      force: { type: "boolean" },
      comment: { type: "string" },
      "delete-branch": { type: "boolean" },
      "keep-branch": { type: "boolean" },
      "allow-no-checks": { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  const allowed: Record<string, string[]> = {
    refresh: ["json"],
    publish: ["json", "draft"],
    retry: ["json", "failed", "repo"],
    update: ["json", "all"],
    merge: ["json", "method", "force", "allow-no-checks", "keep-branch"],
    close: ["json", "comment", "delete-branch", "keep-branch"],
  };
  const extra = Object.keys(values).filter((k) => !allowed[command]!.includes(k));
  if (extra.length > 0) throw new UsageError(`${command} takes no --${extra[0]}`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const jobId = positionals[0];
  if (!jobId) throw new UsageError(`${command} needs a job id`);
  if (values.failed && values.repo?.length) throw new UsageError("give --failed or --repo, not both");
  const method = values.method ?? "squash";
  if (!["squash", "merge", "rebase"].includes(method)) throw new UsageError(`--method takes squash, merge or rebase, got "${method}"`);
  if (values.comment !== undefined && !values.comment.trim()) throw new UsageError("--comment needs a text");
  if (values["delete-branch"] && values["keep-branch"]) throw new UsageError("give --delete-branch or --keep-branch, not both");

  const config = loadConfig(env);
  // Before anything is opened or sent: without credentials GitHub would get unauthenticated requests.
  if (NEEDS_GITHUB.has(command) && !hasGitHub(config)) throw new UsageError(noGitHubReason(command), false);
  const log = newLogger({ level: env.LOG_LEVEL ?? "warn", secrets: secretValues(config), base: { program: "cody" } }, { write: (s: string) => void process.stderr.write(s) });
  const relaunches = command === "publish" || command === "retry" || command === "update";
  const world = await openEnvironment(env, { log, launcher: relaunches });
  try {
    const job = await world.store.getJob(jobId);
    if (!job) throw new UsageError(noJob(jobId), false);
    const by = `cli:${env.USER ?? "unknown"}`;
    const actionStarted = new Date();
    if (command === "refresh") {
      const code = await refresh(world, config, log, job, values.json === true);
      // A job with --heal N heals what tracking found failing (issue 19, scripts/cli-heal.ts).
      return job.heal && !values.json ? Math.max(code, await (await import("./cli-heal.ts")).autoHeal(jobId, env)) : code;
    }
    const deps = campaignDeps(world, config, log, values.json === true);
    let outcome: ActionOutcome;
    switch (command) {
      case "publish":
        outcome = await publishJob(deps, { jobId, by, draft: values.draft === true });
        break;
      case "retry":
        outcome = await retryJob(deps, { jobId, by, ...(values.repo?.length ? { repositories: values.repo.flatMap((r) => r.split(/[,\s]+/)).filter(Boolean) } : {}) });
        break;
      case "update":
        outcome = await chunked(deps, { jobId, by, action: "update", options: { all: values.all === true } });
        break;
      case "merge":
        outcome = await chunked(deps, { jobId, by, action: "merge", options: { method: method as MergeMethod, force: values.force === true, ...(values["allow-no-checks"] ? { allowNoChecks: true } : {}), keepBranch: values["keep-branch"] === true } });
        break;
      default:
        outcome = await chunked(deps, { jobId, by, action: "close", options: { ...(values.comment ? { comment: values.comment } : {}), keepBranch: values["keep-branch"] === true } });
    }
    if (outcome.kind === "not_found") throw new UsageError(noJob(jobId), false);
    if (outcome.kind === "refused") throw new UsageError(outcome.reason, false);
    const summary = outcome.summary;
    let failed = (summary.counts.failed ?? 0) > 0;
    if (relaunches && (summary.counts.launched ?? 0) > 0) {
      const launched = new Set(summary.all.filter((r) => r.kind === "launched").map((r) => r.repository));
      const { job: after, rows } = await watchJob(world, job, { quiet: values.json === true });
      failed ||= rows.some((r) => launched.has(r.repositoryName) && isTerminalRepo(r.status) && r.status === "FAILED");
      if (values.json) process.stdout.write(`${JSON.stringify({ action: summary, job: { ...after, repositories: rows } }, null, 2)}\n`);
      else await printFinalTable(world, after, rows, { since: actionStarted });
    } else if (values.json) {
      process.stdout.write(`${JSON.stringify({ action: summary }, null, 2)}\n`);
    }
    return failed ? 1 : 0;
  } finally {
    await world.close();
  }
}

/**
 * merge, close and update through the action log (core/campaign-chunks.ts) with no deadline: one
 * chunk does it all, an action a Slack click started and still runs is refused (exit 2), and one
 * whose invocations died (no progress for 10 minutes) is resumed from its cursor.
 */
async function chunked(deps: CampaignDeps, task: ChunkTask): Promise<ActionOutcome> {
  const r = await runActionChunk(deps as ChunkDeps, task, { now: Date.now, deadline: Infinity });
  if (r.kind === "busy") throw new UsageError(`a ${r.action} by ${r.by} started ${r.since} is still in progress on ${task.jobId}; try again once it has ended`, false);
  if (r.kind !== "finished") throw new UsageError(`the ${task.action} of ${task.jobId} ended elsewhere meanwhile`, false);
  return r.outcome;
}

function campaignDeps(world: CliEnvironment, config: Config, log: Logger, json: boolean): CampaignDeps {
  const slack = config.slack.botToken ? newSlackNotifierFromConfig(config, log, { store: world.store, artifacts: world.artifacts }) : undefined;
  return newCampaignDeps(config, log, {
    store: world.store,
    launcher: world.launcher,
    announce: async (job, summary, signal) => {
      if (!json) process.stdout.write(actionSummaryText(summary));
      await slack?.postInThread(job, actionSummaryMessage(summary), signal);
      await slack?.refreshRoot(job.jobId, signal);
    },
  });
}

async function refresh(world: CliEnvironment, config: Config, log: Logger, job: Job, json: boolean): Promise<number> {
  const r = await refreshJob({ store: world.store, readPr: newPrReader(octokitPerOwner(config, log)), log }, job.jobId);
  if (config.slack.botToken) await newSlackNotifierFromConfig(config, log, { store: world.store, artifacts: world.artifacts }).refreshRoot(job.jobId);
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  } else {
    const rows = await world.store.listRepos(job.jobId);
    await printFinalTable(world, (await world.store.getJob(job.jobId)) ?? job, rows);
    process.stdout.write(`${burndownText(r.summary)}\n${r.refreshed} refreshed · ${r.counted} GitHub requests counted${r.failed.length ? ` · ${r.failed.length} unreadable: ${r.failed.map((f) => `${f.repository} (${f.reason})`).join(", ")}` : ""}\n`);
  }
  return r.failed.length > 0 ? 1 : 0;
}
