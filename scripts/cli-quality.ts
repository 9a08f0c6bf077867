/**
 * The change-quality parts of `cody run` (issue 19), loaded lazily by scripts/cody.ts: the
 * `--judge` / `--no-judge` / `--budget-usd N` / `--heal N` flags, the default cap
 * (DEFAULT_JOB_BUDGET_USD), and the budget lines of `--plan`.
 */
import type { Config } from "../core/config/index.ts";
import type { Job, JobRequest } from "../core/jobs/index.ts";
import { formatUsd, meanCostPerRepository } from "../core/jobs/index.ts";
import { UsageError } from "./cli-usage-error.ts";

/** The parsed flag values this file reads (as node:util parseArgs returns them). */
export type QualityFlags = { judge?: boolean; "no-judge"?: boolean; "budget-usd"?: string; heal?: string };

/**
 * The request fields the flags set, over what a spec file set (`base`), with the config's
 * default cap when neither names one. `invalid` (exit 2) for both --judge and --no-judge, a
 * budget that is not a number, or heal attempts that are not a whole number.
 */
export function qualityRequest(
  flags: QualityFlags,
  base: Pick<JobRequest, "judge" | "budgetUsd" | "heal">,
  config: Pick<Config, "defaultJobBudgetUsd">,
): { kind: "ok"; fields: Pick<JobRequest, "judge" | "budgetUsd" | "heal"> } | { kind: "invalid"; message: string } {
  if (flags.judge && flags["no-judge"]) return { kind: "invalid", message: "give --judge or --no-judge, not both" };
  const fields: Pick<JobRequest, "judge" | "budgetUsd" | "heal"> = { ...base };
  if (flags.judge) fields.judge = true;
  if (flags["no-judge"]) fields.judge = false;
  const raw = flags["budget-usd"];
  if (raw !== undefined) {
    const n = Number(raw.replace(/^\$/, ""));
    if (!raw.trim() || !Number.isFinite(n) || n <= 0) return { kind: "invalid", message: `--budget-usd takes a number of dollars above 0, got "${raw}"` };
    fields.budgetUsd = n;
  }
  if (fields.budgetUsd === undefined && config.defaultJobBudgetUsd !== undefined) fields.budgetUsd = config.defaultJobBudgetUsd;
  if (flags.heal !== undefined) {
    const h = Number(flags.heal);
    if (!/^\d+$/.test(flags.heal) || !Number.isInteger(h)) return { kind: "invalid", message: `--heal takes a whole number of attempts, got "${flags.heal}"` };
    fields.heal = h;
  }
  return { kind: "ok", fields };
}

/** `request` with the quality flags applied (see {@link qualityRequest}); throws UsageError (exit 2) for bad flags. */
export function withQuality<R extends Pick<JobRequest, "judge" | "budgetUsd" | "heal">>(request: R, flags: QualityFlags, config: Pick<Config, "defaultJobBudgetUsd">): R {
  const q = qualityRequest(flags, request, config);
  if (q.kind === "invalid") throw new UsageError(q.message, "run");
  return { ...request, ...q.fields };
}

/**
 * The budget lines of `--plan` for a job that spends on Claude (a Claude job, or a judged
 * script): the cap, and the mean cost per repository of earlier finished Claude jobs with the
 * estimate for this one. `earlier` reads those jobs; when it throws (no store to read), the
 * mean is left out.
 */
export async function budgetPlanLines(request: Pick<JobRequest, "type" | "judge" | "budgetUsd" | "repositories">, earlier: () => Promise<Job[]>): Promise<string[]> {
  const spends = request.type === "code-pattern-update" || request.judge === true;
  if (!spends) return [];
  const lines = [request.budgetUsd !== undefined ? `budget: ${formatUsd(request.budgetUsd)} for the whole job (no model request is sent once it is spent)` : "budget: no cap (--budget-usd N or DEFAULT_JOB_BUDGET_USD sets one)"];
  let jobs: Job[] = [];
  try {
    jobs = await earlier();
  } catch {
    return lines;
  }
  const mean = meanCostPerRepository(jobs);
  if (!mean) {
    lines.push("mean cost per repository: no earlier Claude job with a recorded cost");
    return lines;
  }
  const estimate = mean.usd * request.repositories.length;
  lines.push(
    `mean cost per repository of earlier Claude jobs: $${mean.usd.toFixed(4)} (${mean.jobs} job${mean.jobs === 1 ? "" : "s"}, ${mean.repositories} repositories); ` +
      `about $${estimate.toFixed(2)} for ${request.repositories.length} repositor${request.repositories.length === 1 ? "y" : "ies"}`,
  );
  return lines;
}
