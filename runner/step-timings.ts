/**
 * Where one repository's time went: milliseconds per runner step (clone, change, verify, commit,
 * diff, push, pr, plus the bookkeeping around them: start = reading the job and claiming the row,
 * cleanup = removing the checkout), written to the repository's log line and
 * to its row (`timings`) so `cody status <job> --timings` can show a slow repository's steps.
 */

/** The steps a repository's time is split into, in the order they run. */
export const TIMED_STEPS = ["start", "clone", "change", "verify", "commit", "diff", "push", "pr", "cleanup"] as const;
export type TimedStep = (typeof TIMED_STEPS)[number];

/** Collects step durations of one attempt; a step timed twice (verify from Claude) adds up. */
export type StepTimings = {
  /** Runs `fn` and adds its duration to `step`, whether it resolves or throws. */
  time<T>(step: TimedStep, fn: () => Promise<T>): Promise<T>;
  /** Adds `ms` to `step` (time measured elsewhere, e.g. everything since the timer was made). */
  add(step: TimedStep, ms: number): void;
  /** Milliseconds since the timer was made. */
  elapsed(): number;
  /** Whole milliseconds per step that ran, plus `total` since the timer was made. */
  snapshot(): Record<string, number>;
};

/** A timer started now (`clock` for tests: milliseconds, monotonic). */
export function newStepTimings(clock: () => number = () => performance.now()): StepTimings {
  const started = clock();
  const spent = new Map<TimedStep, number>();
  return {
    async time(step, fn) {
      const t0 = clock();
      try {
        return await fn();
      } finally {
        spent.set(step, (spent.get(step) ?? 0) + (clock() - t0));
      }
    },
    add(step, ms) {
      spent.set(step, (spent.get(step) ?? 0) + ms);
    },
    elapsed: () => clock() - started,
    snapshot() {
      const out: Record<string, number> = {};
      for (const s of TIMED_STEPS) {
        const ms = spent.get(s);
        if (ms !== undefined) out[s] = Math.round(ms);
      }
      out.total = Math.round(clock() - started);
      return out;
    },
  };
}
