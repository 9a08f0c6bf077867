/**
 * A job's spend against its cap (issue 19), in words and numbers: what the runner's meter,
 * the root message, `cody status` and `--plan` share. Pure.
 */
import type { Job } from "./job.ts";

/** Dollars to whole micro-dollars (what the counter adds: integers stay exact, floats would drift). */
export function toMicroUsd(usd: number): number {
  return Math.max(0, Math.round(usd * 1_000_000));
}

/** `$5`, `$0.25`, `$0.001`: a cap as people wrote it. */
export function formatUsd(usd: number): string {
  return `$${Number(usd.toFixed(6)).toString()}`;
}

/** Spend in cents for people: `$0.42`, `$12.30` (below a cent: `$0.0042`). */
export function formatSpend(microUsd: number): string {
  const usd = microUsd / 1_000_000;
  return usd > 0 && usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** The reason a repository ends with once its job's cap is reached. */
export function budgetReason(budgetUsd: number): string {
  return `job budget of ${formatUsd(budgetUsd)} spent`;
}

/** True when `spendMicroUsd` has reached a cap of `budgetUsd` dollars (no cap: never). */
export function isBudgetSpent(spendMicroUsd: number | undefined, budgetUsd: number | undefined): boolean {
  return budgetUsd !== undefined && (spendMicroUsd ?? 0) >= toMicroUsd(budgetUsd);
}

/**
 * `Spend $0.42 of $5 (8 %)`, `Spend $0.42 (no cap)`, or undefined for a job that has neither a
 * cap nor any spend (a script job without the judge).
 */
export function spendLine(job: Pick<Job, "spendMicroUsd" | "budgetUsd">): string | undefined {
  const spent = job.spendMicroUsd ?? 0;
  if (job.budgetUsd === undefined) return spent > 0 ? `Spend ${formatSpend(spent)} (no cap)` : undefined;
  const pct = Math.min(999, Math.floor((spent / toMicroUsd(job.budgetUsd)) * 100));
  return `Spend ${formatSpend(spent)} of ${formatUsd(job.budgetUsd)} (${pct} %)${isBudgetSpent(spent, job.budgetUsd) ? " · cap reached" : ""}`;
}

/**
 * The mean cost per repository of earlier Claude jobs (finished ones with a recorded cost), for
 * `--plan`; undefined when there are none.
 */
export function meanCostPerRepository(jobs: readonly Pick<Job, "type" | "finishedAt" | "totals" | "counters" | "spendMicroUsd">[]): { usd: number; jobs: number; repositories: number } | undefined {
  let micro = 0;
  let repositories = 0;
  let count = 0;
  for (const j of jobs) {
    if (j.type !== "code-pattern-update" || !j.finishedAt) continue;
    const cost = Math.max(j.totals?.costMicroUsd ?? 0, j.spendMicroUsd ?? 0);
    const ran = j.counters.completed + j.counters.noChanges + j.counters.failed;
    if (cost <= 0 || ran === 0) continue;
    micro += cost;
    repositories += ran;
    count += 1;
  }
  return count === 0 ? undefined : { usd: micro / 1_000_000 / repositories, jobs: count, repositories };
}
