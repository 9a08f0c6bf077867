/**
 * `cody import JOB_ID | --branch NAME [--repo SELECTOR …] [--json]` (issue 24): rebuilds a job
 * from the pull requests of its branch on GitHub (core/campaign-import.ts), refreshes their state
 * and prints the table, so `status`, `refresh`, `merge` and `close` work on it again.
 * Exit codes: 0 imported, 2 bad input, no GitHub credentials, or nothing to import.
 */
import { parseArgs } from "node:util";
import { loadConfig, secretValues } from "../core/config/index.ts";
import { hasGitHub, importJob, noGitHubReason } from "../core/campaign/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { newPrReader, octokitPerOwner, refreshJob, splitSelectors } from "../core/github/index.ts";
import { openEnvironment } from "../environment/index.ts";
import { printFinalTable } from "./cli-display.ts";
import { resolveTargets } from "./cli-run-spec.ts";
import { UsageError } from "./cli-usage-error.ts";

/** Runs `cody import`; returns the exit code. Throws UsageError for bad input. */
export async function importMain(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { branch: { type: "string" }, repo: { type: "string", multiple: true }, json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const jobId = positionals[0];
  if (!jobId && !values.branch) throw new UsageError("import needs a job id (branch cody/JOB_ID) or --branch NAME", "import");
  if (jobId && !/^j-[a-z0-9]+$/.test(jobId)) throw new UsageError(`"${jobId}" is not a job id (j-…)`, "import");
  const config = loadConfig(env);
  if (!hasGitHub(config)) throw new UsageError(noGitHubReason("import"), false);
  const log = newLogger({ level: env.LOG_LEVEL ?? "warn", secrets: secretValues(config), base: { program: "cody" } }, { write: (s: string) => void process.stderr.write(s) });
  let repositories: string[] | undefined;
  const selectors = (values.repo ?? []).flatMap(splitSelectors);
  if (selectors.length > 0) {
    const targets = await resolveTargets(selectors, config);
    if (targets.kind === "invalid") throw new UsageError(`repositories: ${targets.message}`, false);
    repositories = targets.repositories;
  }
  // The issue search needs one installation: an App installed on several accounts names the repositories.
  if (!repositories && config.github.app && !config.github.app.installationId) {
    throw new UsageError("with a GitHub App, name where to look: --repo OWNER/* (or set GITHUB_APP_INSTALLATION_ID)", false);
  }
  const octokitFor = octokitPerOwner(config, log);
  const world = await openEnvironment(env, { log, launcher: false });
  try {
    const by = `cli:${env.USER ?? "unknown"}`;
    const r = await importJob({ store: world.store, octokitFor }, { ...(jobId ? { jobId } : {}), ...(values.branch ? { branch: values.branch } : {}), ...(repositories ? { repositories } : {}), by });
    if (r.kind === "refused") throw new UsageError(r.reason, false);
    for (const n of r.notes) process.stderr.write(`cody: ${n}\n`);
    const refreshed = await refreshJob({ store: world.store, readPr: newPrReader(octokitFor), log }, r.job.jobId);
    const job = (await world.store.getJob(r.job.jobId)) ?? r.job;
    const rows = await world.store.listRepos(job.jobId);
    if (values.json) process.stdout.write(`${JSON.stringify({ ...job, repositories: rows }, null, 2)}\n`);
    else {
      process.stderr.write(`cody: imported job ${job.jobId} (${rows.length} pull requests of branch ${rows[0]?.branch ?? ""})\n`);
      await printFinalTable(world, job, rows);
    }
    return refreshed.failed.length > 0 ? 1 : 0;
  } finally {
    await world.close();
  }
}
