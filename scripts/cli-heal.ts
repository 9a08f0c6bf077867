/**
 * `cody heal JOB_ID [--attempts N] [--json]` (issue 19): relaunches the job's PRs whose checks
 * fail in heal mode (core/campaign-heal.ts) and waits for them like `cody run`. Systematic
 * failures are printed (and posted in the job's thread) once, and not healed.
 * Exit codes: 0 nothing failed, 1 a heal attempt failed or checks were unreadable, 2 bad input or refused.
 */
import { parseArgs } from "node:util";
import { loadConfig, secretValues, type Config } from "../core/config/index.ts";
import { healJob, systematicText, type HealDeps } from "../core/campaign/index.ts";
import { hasGitHub, newCampaignDeps } from "../core/campaign/index.ts";
import { LIMITS } from "../core/jobs/index.ts";
import { newLogger, type Logger } from "../core/runtime/index.ts";
import { newSlackNotifierFromConfig } from "../bot/slack-notifier.ts";
import { actionSummaryMessage, actionSummaryText } from "../bot/messages/campaign.ts";
import { systematicMessage } from "../bot/messages/heal.ts";
import { openEnvironment, type CliEnvironment } from "../environment/index.ts";
import { printFinalTable, watchJob } from "./cli-display.ts";
import { UsageError } from "./cli-usage-error.ts";

/** Runs `cody heal` with `args`; returns the exit code. Throws UsageError for bad input. */
export async function healMain(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: "boolean" }, attempts: { type: "string" } }, allowPositionals: true, strict: true });
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`, "heal");
  const jobId = positionals[0];
  if (!jobId) throw new UsageError("heal needs a job id", "heal");
  let attempts: number | undefined;
  if (values.attempts !== undefined) {
    attempts = Number(values.attempts);
    if (!/^\d+$/.test(values.attempts) || attempts < 1 || attempts > LIMITS.maxHealAttempts) throw new UsageError(`--attempts takes a whole number from 1 to ${LIMITS.maxHealAttempts}, got "${values.attempts}"`, "heal");
  }
  return runHeal(jobId, env, { json: values.json === true, ...(attempts ? { attempts } : {}) });
}

/**
 * `cody refresh` on a job with `--heal N` (issue 19): heals what tracking found failing, within
 * the job's attempts, and prints the heal's summary. Returns the exit code (0 when the job heals
 * only on request).
 */
export async function autoHeal(jobId: string, env: NodeJS.ProcessEnv): Promise<number> {
  return runHeal(jobId, env, { json: false, auto: true });
}

async function runHeal(jobId: string, env: NodeJS.ProcessEnv, opts: { json: boolean; attempts?: number; auto?: boolean }): Promise<number> {
  const { json, attempts } = opts;
  const config = loadConfig(env);
  if (!hasGitHub(config)) throw new UsageError("heal needs GitHub access: set GITHUB_TOKEN (or a GitHub App)", false);
  const log = newLogger({ level: env.LOG_LEVEL ?? "warn", secrets: secretValues(config), base: { program: "cody" } }, { write: (s: string) => void process.stderr.write(s) });
  const world = await openEnvironment(env, { log, launcher: true });
  try {
    const job = await world.store.getJob(jobId);
    if (!job) throw new UsageError(`no job ${jobId}`, false);
    const outcome = await healJob(healDeps(world, config, log, json), { jobId, by: `cli:${env.USER ?? "unknown"}`, ...(attempts ? { attempts } : {}), ...(opts.auto ? { auto: true } : {}) });
    if (outcome.kind === "not_found") throw new UsageError(`no job ${jobId}`, false);
    if (opts.auto && outcome.kind === "refused") return 0;
    if (outcome.kind === "refused") throw new UsageError(outcome.reason, false);
    const summary = outcome.summary;
    let failed = (summary.counts.failed ?? 0) > 0;
    if ((summary.counts.launched ?? 0) > 0) {
      const { job: after, rows } = await watchJob(world, job, { quiet: json });
      const launched = new Set(summary.all.filter((r) => r.kind === "launched").map((r) => r.repository));
      failed ||= rows.some((r) => launched.has(r.repositoryName) && (r.status !== "COMPLETED" || r.heals?.at(-1)?.outcome !== "pushed"));
      if (json) process.stdout.write(`${JSON.stringify({ action: summary, job: { ...after, repositories: rows } }, null, 2)}\n`);
      else await printFinalTable(world, after, rows);
    } else if (json) {
      process.stdout.write(`${JSON.stringify({ action: summary, job: (await world.store.getJob(jobId)) ?? job }, null, 2)}\n`);
    }
    return failed ? 1 : 0;
  } finally {
    await world.close();
  }
}

/** Healing's dependencies on the CLI: the campaign's, plus announcing to the terminal and the job's thread. */
export function healDeps(world: CliEnvironment, config: Config, log: Logger, json: boolean): HealDeps {
  const slack = config.slack.botToken ? newSlackNotifierFromConfig(config, log, { store: world.store, artifacts: world.artifacts }) : undefined;
  const base = newCampaignDeps(config, log, {
    store: world.store,
    launcher: world.launcher,
    announce: async (job, summary, signal) => {
      if (!json) process.stdout.write(actionSummaryText(summary));
      await slack?.postInThread(job, actionSummaryMessage(summary), signal);
      await slack?.refreshRoot(job.jobId, signal);
    },
  });
  return {
    ...base,
    store: world.store,
    reportSystematic: async (job, found, signal) => {
      (json ? process.stderr : process.stdout).write(`${systematicText(found)}\n`);
      await slack?.postInThread(job, systematicMessage(found), signal);
    },
  };
}
