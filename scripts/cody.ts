/**
 * The `cody` CLI: run, status, list, cancel, runner, demo (`make run`), dev (`make dev`).
 * Works on the same store and launcher as the bot: the embedded stack by default, AWS when
 * the environment points there. Exit codes: 0 every repository COMPLETED or NO_CHANGES,
 * 1 some repository did not, 2 bad input (nothing written).
 */
import { parseArgs } from "node:util";
import { COMMANDS, USAGE, usageOf } from "./cli-usage.mjs";
// Only types and node:util at the top: `cody --help` must load nothing else. Each command loads
// what it needs with `await import()` (in the bundle, dist/cody.js, those are separate chunks).
import type { Config } from "../core/config/index.ts";
import type { Job, JobRequest, RepoRow } from "../core/jobs/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import type { CliEnvironment } from "../environment/index.ts";
import { noJob, positiveInt, UsageError } from "./cli-usage-error.ts";
export { UsageError }; // bad input, exit code 2 (defined in cli-usage-error.ts so cli-*.ts need not import this file)

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    if (argv.some((a) => a === "--env" || a.startsWith("--env="))) ({ argv, env } = (await import("./cli-aws-environment.ts")).withAwsEnvironment(argv, env));
    const [command, ...rest] = argv;
    switch (command) {
      case "run":
        return await runCommand(rest, env);
      case "demo":
        return await demoCommand(env);
      case "status":
        return await statusCommand(rest, env);
      case "list":
        return await listCommand(rest, env);
      case "cancel":
        return await cancelCommand(rest, env);
      case "runner":
        return await runnerCommand(rest, env);
      case "watchdog":
        return await watchdogCommand(rest, env);
      case "dev":
        return await (await import("./cli-dev.ts")).devCommand(env);
      case "playground":
        return await (await import("./cli-playground.ts")).playgroundCommand(rest, env, (m) => new UsageError(m, "playground"));
      case "logs":
        return await (await import("./cli-logs.ts")).logsCommand(rest, () => openCli(env, { launcher: false }), (m) => new UsageError(m, false), noJob);
      case "web": return await (await import("./cli-web.ts")).webCommand(rest, env, (e) => openCli(e, { launcher: false }), (m) => new UsageError(m, false));
      case "stack":
        return await (await import("./cli-stack.ts")).stackCommand(rest, env, (m) => new UsageError(m));
      case "refresh":
      case "publish":
      case "retry":
      case "update":
      case "merge":
      case "close":
        return await (await import("./cli-campaign.ts")).campaignMain(command, rest, env);
      case "doctor": return await (await import("./cli-doctor.ts")).doctorMain(rest, env);
      case "import": return await (await import("./cli-import.ts")).importMain(rest, env);
      case "heal": return await (await import("./cli-heal.ts")).healMain(rest, env);
      case "help": case "--help": case "-h": // prettier-ignore
        process.stdout.write(`${USAGE}\n`);
        return 0;
      default: {
        if (!command) throw new UsageError("no command given");
        const { closest } = await import("../core/runtime/did-you-mean.ts");
        const near = closest(command, COMMANDS);
        throw new UsageError(`unknown command "${command}"${near ? ` (did you mean "${near}"?)` : "; see cody --help"}`, near ?? false);
      }
    }
  } catch (err) {
    // ConfigError by name: core/config/config.ts is not loaded for every command.
    if (err instanceof UsageError || (err instanceof Error && err.name === "ConfigError")) {
      // Only the command's own usage (all of it for a mistyped or missing command).
      const usage = err instanceof UsageError && err.showUsage ? `${usageOf(typeof err.showUsage === "string" ? err.showUsage : (argv[0] ?? ""))}\n` : "";
      process.stderr.write(`cody: ${err.message}\n${usage}`);
      return 2;
    }
    // A failure of the embedded stack (environment/stack-errors.ts words it) or of GitHub: one line, exit 1.
    if (err instanceof Error && (err.name === "StackError" || err.name === "OutageError")) {
      process.stderr.write(`cody: ${err.message}\n`);
      return 1;
    }
    const e = err as { code?: string; message?: string };
    if (e.code?.startsWith("ERR_PARSE_ARGS")) {
      // Node's parser advice ("place it after '--'") is wrong here: name the option, suggest one of the command's own.
      const usage = usageOf(argv[0] ?? "");
      const line = (await import("./cli-hints.ts")).parseErrorLine(e.message ?? "bad arguments", usage);
      process.stderr.write(`cody: ${line}\n${usage}\n`);
      return 2;
    }
    throw err;
  }
}

/** The configured environment with the CLI's logger (config, stack, store, launcher unless `launcher: false`). */
async function openCli(env: NodeJS.ProcessEnv, opts: { launcher?: boolean; runner?: boolean }): Promise<CliEnvironment> {
  const [{ loadConfig }, { openEnvironment }] = await Promise.all([import("../core/config/config.ts"), import("../environment/environment.ts")]);
  const config = loadConfig(env);
  return openEnvironment(env, { log: await cliLogger(env, config), ...opts });
}

function checkPositionals<R extends { positionals: string[] }>(r: R, max: number): R {
  if (r.positionals.length > max) throw new UsageError(`unexpected argument "${r.positionals[max]}"`);
  return r;
}

/** Set once Ctrl-C cancels a job: log lines stop, so nothing comes between "cancelling" and the table. */
let interrupted = false;

async function cliLogger(env: NodeJS.ProcessEnv, config?: Config): Promise<Logger> {
  const [{ newLogger }, { secretValues }, { logDestination }] = await Promise.all([import("../core/runtime/log.ts"), import("../core/config/config.ts"), import("../core/runtime/log-format.ts")]);
  const level = env.LOG_LEVEL ?? "warn";
  // Human lines on a terminal, JSON for programs (LOG_FORMAT=json, or stderr not a terminal).
  return newLogger({ level, secrets: config ? secretValues(config) : [], base: { program: "cody" } }, logDestination(env, process.stderr, { drop: () => interrupted }));
}

type RunInput = { request: JobRequest; concurrency?: number; json: boolean; plan?: boolean; wide?: boolean; nextSteps?: boolean; extraEnv?: NodeJS.ProcessEnv; stopStackWhenIdle?: boolean; quality?: import("./cli-quality.ts").QualityFlags };

async function runCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = checkPositionals(parseArgs({ args, options: {
    repo: { type: "string", multiple: true },
    prompt: { type: "string" },
    script: { type: "string" },
    name: { type: "string" },
    pr: { type: "boolean" },
    draft: { type: "boolean" },
    base: { type: "string" },
    verify: { type: "string" },
    concurrency: { type: "string" },
    label: { type: "string", multiple: true },
    reviewer: { type: "string", multiple: true },
    "team-reviewer": { type: "string", multiple: true },
    assignee: { type: "string", multiple: true },
    "pr-interval": { type: "string" },
    branch: { type: "string" }, "on-conflict": { type: "string" }, "allow-no-checks": { type: "boolean" },
    json: { type: "boolean" },
    file: { type: "string", short: "f" },
    plan: { type: "boolean" }, judge: { type: "boolean" }, "no-judge": { type: "boolean" }, "budget-usd": { type: "string" }, heal: { type: "string" },
    wide: { type: "boolean" },
  }, allowPositionals: true, strict: true }), 0);
  const concurrency = values.concurrency === undefined ? undefined : positiveInt("--concurrency", values.concurrency);
  const common = { ...(concurrency ? { concurrency } : {}), json: values.json ?? false, plan: values.plan ?? false, wide: values.wide ?? false, quality: values };
  if (values.file !== undefined) {
    const spec = await (await import("./cli-run-spec.ts")).requestFromSpecFile(values.file, values, `cli:${env.USER ?? "unknown"}`);
    if (spec.kind === "invalid") throw new UsageError(spec.message, false);
    return runJob({ request: spec.request, ...common }, env);
  }
  if (values.prompt !== undefined && values.script !== undefined) throw new UsageError("give --prompt or --script, not both", "run");
  if (values.prompt === undefined && values.script === undefined) throw new UsageError("give --prompt TEXT (Claude) or --script CMD", "run");
  const { splitSelectors } = await import("../core/github/selectors.ts");
  const repositories = (values.repo ?? []).flatMap(splitSelectors);
  if (repositories.length === 0) throw new UsageError("name at least one repository: --repo OWNER/NAME (or OWNER/*)", "run");
  const prInterval = values["pr-interval"] === undefined ? undefined : positiveInt("--pr-interval", values["pr-interval"], true);
  const request: JobRequest = {
    type: values.prompt !== undefined ? "code-pattern-update" : "script",
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.prompt !== undefined ? { prompt: values.prompt } : {}),
    ...(values.script !== undefined ? { script: values.script } : {}),
    ...(values.verify ? { verify: values.verify } : {}),
    ...(values.base ? { baseBranch: values.base } : {}),
    ...(values.branch ? { branch: values.branch } : {}), ...(values["on-conflict"] ? { onConflict: values["on-conflict"] as JobRequest["onConflict"] } : {}), ...(values["allow-no-checks"] ? { allowNoChecks: true } : {}),
    repositories,
    createPullRequests: values.pr ?? false,
    pullRequest: {
      draft: values.draft ?? false,
      labels: values.label ?? [],
      reviewers: values.reviewer ?? [],
      teamReviewers: values["team-reviewer"] ?? [],
      assignees: values.assignee ?? [],
      ...(prInterval !== undefined ? { minIntervalSeconds: prInterval } : {}),
    },
    createdBy: `cli:${env.USER ?? "unknown"}`,
  };
  return runJob({ request, ...common }, env);
}

/** `make run`: example repositories unless REPOS is given, the default script unless PROMPT/SCRIPT is. */
async function demoCommand(env: NodeJS.ProcessEnv): Promise<number> {
  const { DEFAULT_SCRIPT, makeExampleRepos } = await import("./example-repos.ts");
  const repos = (env.REPOS ?? "").split(/[,\s]+/).filter(Boolean);
  const extraEnv: NodeJS.ProcessEnv = {};
  let repositories = repos;
  if (repos.length === 0) {
    const examples = makeExampleRepos(env.CODY_DIR ?? ".cody");
    repositories = examples.repositories;
    extraEnv.GIT_BASE_URL = env.GIT_BASE_URL || examples.gitBaseUrl;
    if (!env.ALLOWED_REPOSITORIES) extraEnv.ALLOWED_REPOSITORIES = "example/*";
    process.stderr.write(`cody: no REPOS given; using ${repositories.length} example repositories under ${examples.gitBaseUrl}\n`);
  }
  const prompt = env.PROMPT?.trim();
  const script = env.SCRIPT?.trim() || (prompt ? undefined : DEFAULT_SCRIPT);
  if (!prompt) process.stderr.write(`cody: script change: ${script}\n`);
  const request: JobRequest = {
    type: prompt ? "code-pattern-update" : "script",
    name: env.NAME || (prompt ? undefined : env.SCRIPT ? undefined : "Rename the deprecated fetchJson helper to getJson"),
    ...(prompt ? { prompt } : { script: script! }),
    ...(env.VERIFY ? { verify: env.VERIFY } : {}),
    ...(env.BASE ? { baseBranch: env.BASE } : {}),
    repositories,
    createPullRequests: env.PR === "1" || env.PR === "true",
    createdBy: `cli:${env.USER ?? "unknown"}`,
  };
  // `make run` leaves no daemon behind: one it started stops once idle (another program's use keeps it).
  return runJob({ request, json: false, extraEnv, stopStackWhenIdle: true, nextSteps: true }, env);
}

async function runJob(input: RunInput, env0: NodeJS.ProcessEnv): Promise<number> {
  const env = { ...env0, ...input.extraEnv };
  const [{ loadConfig }, { validateJobRequest }] = await Promise.all([import("../core/config/config.ts"), import("../core/jobs/job-request.ts")]);
  const config = loadConfig(env);
  input = { ...input, request: (await import("./cli-quality.ts")).withQuality(input.request, input.quality ?? {}, config) };
  if (!input.plan && input.request.type === "code-pattern-update" && !config.anthropic.apiKey && !config.anthropic.baseUrl) {
    throw new UsageError(
      "a Claude job needs ANTHROPIC_API_KEY (or CLAUDE_API_KEY), or ANTHROPIC_BASE_URL for an Anthropic-compatible server. " +
        "Without Claude, give a shell script instead: --script CMD (make run SCRIPT=…), which runs in each checkout.",
      false,
    );
  }
  if (!input.plan && input.request.createPullRequests && !(config.github.token || config.github.app || config.github.apiUrl)) {
    throw new UsageError((await import("../core/campaign/campaign.ts")).NO_GITHUB_FOR_PRS, false);
  }
  // The environment (stack, runner workers) opens while the job is validated (scripts/cli-run-early.ts).
  const early = input.plan ? undefined : (await import("./cli-run-early.ts")).openEarly(env, config, input, await cliLogger(env, config));
  try {
    const targeting = await import("./cli-run-spec.ts");
    for (const name of targeting.givenTwice(input.request.repositories)) process.stderr.write(`cody: warning: ${name} given twice; it runs once\n`);
    const targets = await targeting.resolveTargets(input.request.repositories, config).catch((err: unknown) => {
      throw Object.assign(new Error(targeting.unreachableGitHub(err, config)), { name: "OutageError" });
    });
    if (targets.kind === "invalid") throw new UsageError(`repositories: ${targets.message}`, false);
    // With no ALLOWED_REPOSITORIES, the CLI (an operator on their own machine) may name any
    // repository; the bot refuses to start without an allowlist.
    const checked = validateJobRequest({ ...input.request, repositories: targets.repositories }, config.allowlist.length > 0 ? config.allowlist : "any");
    if (checked.kind === "invalid") throw new UsageError(checked.errors.map((e) => `${e.field}: ${e.message}`).join("\n"), false);
    if (input.plan) {
      // Names typed outright are asked for (selectors' matches come from GitHub already); exit 1 when one cannot be reached.
      const unreachable = await (await import("./cli-plan-reach.ts")).planReach(targets.selectors, config, input.json);
      targeting.printPlan(targets, checked.request, input.json, unreachable.list);
      if (!input.json) for (const l of await (await import("./cli-quality.ts")).budgetPlanLines(checked.request, async () => { const w = await openCli(env, { launcher: false }); try { return await w.store.listJobs(50); } finally { await w.close(); } })) process.stdout.write(`${l}\n`);
      unreachable.print();
      return unreachable.list.length > 0 ? 1 : 0;
    }
    return await runValidated(checked.request, input, env, config, early);
  } catch (err) {
    await early?.abandon();
    throw err;
  }
}

async function runValidated(
  request: JobRequest & { name: string },
  input: RunInput,
  env: NodeJS.ProcessEnv,
  config: Config,
  early?: import("./cli-run-early.ts").EarlyEnvironment,
): Promise<number> {
  const log = await cliLogger(env, config);
  const [{ openEnvironment }, { newJobId }, { submitJob }, { newConsoleNotifier }, { printFinalTable, watchJob }] = await Promise.all([
    import("../environment/environment.ts"), import("../core/jobs/job-request.ts"), import("../core/launch/submit.ts"), import("../core/jobs/notifier.ts"), import("./cli-display.ts"),
  ]);
  const world = early ? await early.take() : await openEnvironment(env, { log, ...(input.concurrency ? { concurrency: input.concurrency } : {}), ...(input.stopStackWhenIdle ? { stopStackWhenIdle: true } : {}), warmRunners: request.repositories.length });
  try {
    // The job is written once its runners can take it: the first repository starts right after.
    await world.runnersReady?.();
    const jobId = newJobId();
    const created = await submitJob(
      { store: world.store, launcher: world.launcher, notifier: newConsoleNotifier(log), log },
      { jobId, request },
    );
    const n = request.repositories.length;
    if (!input.json) process.stderr.write(`cody: job ${jobId} started: ${request.name} (${n} repositor${n === 1 ? "y" : "ies"})\n`);
    const stopCancel = await (await import("./cli-run-early.ts")).cancelOnInterrupt(world, jobId, log, () => (interrupted = true));
    const { job, rows } = await watchJob(world, created.job, { quiet: input.json, hush: () => interrupted });
    stopCancel();
    if (input.json) process.stdout.write(`${JSON.stringify({ ...job, repositories: rows }, null, 2)}\n`);
    else await printFinalTable(world, job, rows, { wide: input.wide === true });
    if (input.nextSteps && !input.json) process.stdout.write((await import("./cli-hints.ts")).nextSteps(job.jobId, rows));
    return exitCodeFor(rows);
  } finally {
    await world.close();
  }
}

/** 0 when every repository is COMPLETED or NO_CHANGES, else 1. */
export function exitCodeFor(rows: readonly RepoRow[]): number {
  return rows.every((r) => r.status === "COMPLETED" || r.status === "NO_CHANGES") ? 0 : 1;
}

async function statusCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = checkPositionals(parseArgs({ args, options: { json: { type: "boolean" }, wide: { type: "boolean" }, timings: { type: "boolean" } }, allowPositionals: true, strict: true }), 2);
  const [jobId, repo] = positionals;
  if (!jobId) throw new UsageError("status needs a job id");
  const world = await openCli(env, { launcher: false });
  try {
    const job = await world.store.getJob(jobId);
    if (!job) throw new UsageError(noJob(jobId), false);
    const rows = await world.store.listRepos(jobId);
    const display = await import("./cli-display.ts");
    if (repo !== undefined) return exitCodeFor([await display.printRepoStatus(world, job, rows, repo, values.json === true)]);
    if (values.json) process.stdout.write(`${JSON.stringify({ ...job, repositories: rows }, null, 2)}\n`);
    else if (values.timings) process.stdout.write((await import("./cli-timings.ts")).timingsTable(rows));
    else await (await import("./cli-web.ts")).printStatus(world, job, rows, { wide: values.wide === true });
    return exitCodeFor(rows);
  } finally {
    await world.close();
  }
}

async function listCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = checkPositionals(parseArgs({ args, options: { json: { type: "boolean" }, limit: { type: "string" } }, allowPositionals: true, strict: true }), 0);
  const limit = values.limit ? positiveInt("--limit", values.limit) : 20;
  const world = await openCli(env, { launcher: false });
  try {
    const jobs = await world.store.listJobs(limit);
    if (values.json) process.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
    else process.stdout.write(formatJobList(jobs));
    return 0;
  } finally {
    await world.close();
  }
}

/** One line per job: id, status, counts, age, name. */
export function formatJobList(jobs: readonly Job[], now = new Date()): string {
  if (jobs.length === 0) return "no jobs yet\n";
  const lines = jobs.map((j) => {
    const c = j.counters;
    const age = Math.max(0, Math.round((now.getTime() - Date.parse(j.createdAt)) / 60000));
    return [j.jobId, j.status.padEnd(9), `✅ ${c.completed} ➖ ${c.noChanges} ❌ ${c.failed} 🚫 ${c.cancelled} / ${c.total}`, `${age} min ago`, j.name].join("  ");
  });
  return `${lines.join("\n")}\n`;
}

async function cancelCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { positionals } = checkPositionals(parseArgs({ args, options: {}, allowPositionals: true, strict: true }), 1);
  const jobId = positionals[0];
  if (!jobId) throw new UsageError("cancel needs a job id");
  const world = await openCli(env, {});
  const log = world.log;
  const [{ cancelJob }, { newConsoleNotifier }] = await Promise.all([import("../core/launch/submit.ts"), import("../core/jobs/notifier.ts")]);
  try {
    const r = await cancelJob({ store: world.store, launcher: world.launcher, notifier: newConsoleNotifier(log), log }, { jobId, by: `cli:${env.USER ?? "unknown"}` });
    if (r.kind === "not_found") throw new UsageError(noJob(jobId), false);
    if (r.kind === "already_finished") process.stdout.write(`job ${jobId} had already finished (${r.job.status})\n`);
    else process.stdout.write(`job ${jobId} cancelled: ${r.pendingCancelled} pending repositories will not run; running ones stop at their next step\n`);
    return 0;
  } finally {
    await world.close();
  }
}

async function runnerCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = checkPositionals(parseArgs({ args, options: { job: { type: "string" }, index: { type: "string" } }, allowPositionals: true, strict: true }), 0);
  if (!values.job || values.index === undefined) throw new UsageError("runner needs --job JOB_ID --index N");
  const index = positiveInt("--index", values.index, true);
  const [{ loadConfig, secretValues }, { newLogger }, { openEnvironment }, { runRepo }] = await Promise.all([
    import("../core/config/config.ts"), import("../core/runtime/log.ts"), import("../environment/environment.ts"), import("../runner/run-repo.ts"),
  ]);
  const config = loadConfig({ ...env, JOB_ID: values.job, AWS_BATCH_JOB_ARRAY_INDEX: String(index) });
  const log = newLogger({ level: env.LOG_LEVEL ?? "info", secrets: secretValues(config), base: { program: "runner" } });
  const world = await openEnvironment(env, { log, launcher: false, runner: true });
  try {
    const controller = new AbortController();
    process.once("SIGTERM", () => controller.abort(new Error("received SIGTERM")));
    return await runRepo(world.runnerDeps(), { jobId: values.job, index }, controller.signal);
  } finally {
    await world.close();
  }
}

/**
 * `cody watchdog`: one watchdog pass over recent unfinished jobs (what the bot's schedule does in
 * AWS): stale heartbeats → FAILED "runner crashed N times at step X", rows no runner ever took →
 * FAILED "runner never started" (after WATCHDOG_PENDING_MINUTES without progress), finished jobs
 * finalized. Exit 0 whatever it found.
 */
async function watchdogCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = checkPositionals(parseArgs({ args, options: { json: { type: "boolean" }, limit: { type: "string" } }, allowPositionals: true, strict: true }), 0);
  const limit = values.limit ? positiveInt("--limit", values.limit) : 100;
  const world = await openCli(env, { launcher: false, runner: true });
  const { config, log } = world;
  const { runWatchdog } = await import("../core/launch/watchdog.ts");
  try {
    const queue = config.batchJobQueue ? (await import("../core/launch/batch-queue.ts")).queueProbeFromConfig(config) : undefined;
    const r = await runWatchdog(
      { store: world.store, notifier: world.runnerDeps().notifier, log, ...(queue ? { queue } : {}) },
      { heartbeatSeconds: config.heartbeatSeconds, maxAttempts: config.maxAttempts, pendingMinutes: config.watchdogPendingMinutes, limit },
      new Date(),
    );
    if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`watchdog: ${r.jobs} unfinished job${r.jobs === 1 ? "" : "s"} checked, ${r.failed} repositor${r.failed === 1 ? "y" : "ies"} failed\n`);
    return 0;
  } finally {
    await world.close();
  }
}
