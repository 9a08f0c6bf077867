/**
 * The job's spend as the agent and the judge see it: checked before every model request,
 * raised after every response with that response's priced usage. The counter itself is one
 * atomic DynamoDB ADD on the job row (core/store-quality.ts).
 */
import { budgetReason, isBudgetSpent, toMicroUsd } from "../../core/jobs/index.ts";

/** Where a job's spend is kept. */
export type SpendCounter = {
  /** Adds `microUsd` to the job's spend and returns the new total (micro-dollars). */
  addJobSpend(jobId: string, microUsd: number, signal?: AbortSignal): Promise<number>;
  /** The job's spend so far (micro-dollars) and its cap, if any. */
  getJobSpend(jobId: string, signal?: AbortSignal): Promise<{ spendMicroUsd: number; budgetUsd?: number }>;
};

/** What the model callers ask before each request and tell after each response. */
export type SpendMeter = {
  /** `spent` (with the reason for people) once the job's cap is reached; `ok` otherwise or without a cap. */
  check(signal: AbortSignal): Promise<{ kind: "ok" } | { kind: "spent"; reason: string }>;
  /** Adds one response's cost (dollars) to the job's spend. */
  add(costUsd: number, signal: AbortSignal): Promise<void>;
};

/**
 * The meter of one job over `counter`. Without a cap, `check` answers `ok` without a request
 * (the spend is still counted, for the root message and `cody status`). With a cap, `check`
 * reads the counter (one consistent read) each time, so a request is never sent after any
 * runner of the job raised the spend past the cap. Store failures throw.
 */
export function newSpendMeter(counter: SpendCounter, job: { jobId: string; budgetUsd?: number }): SpendMeter {
  return {
    async check(signal) {
      if (job.budgetUsd === undefined) return { kind: "ok" };
      const { spendMicroUsd } = await counter.getJobSpend(job.jobId, signal);
      return isBudgetSpent(spendMicroUsd, job.budgetUsd) ? { kind: "spent", reason: budgetReason(job.budgetUsd) } : { kind: "ok" };
    },
    async add(costUsd, signal) {
      const micro = toMicroUsd(costUsd);
      if (micro > 0) await counter.addJobSpend(job.jobId, micro, signal);
    },
  };
}
