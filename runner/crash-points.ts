/**
 * Test-only fault injection for the runner: `CODY_TEST_CRASH_AT` makes the runner process kill
 * itself with SIGKILL at a step, exactly as an out-of-memory kill or a lost Fargate task would,
 * so tests can prove that the next attempt recovers. Honoured only when `NODE_ENV=test`;
 * anywhere else the variable is ignored.
 *
 * Format: comma-separated entries `[owner/name=]step[@N]`:
 * - `step`: clone, change, verify, commit, push, pull_request or report (see run-repo.ts);
 * - `owner/name=`: only for that repository (default: every repository);
 * - `@N`: only while the row's attempt is at most N (default: every attempt).
 * Example: `CODY_TEST_CRASH_AT="acme/a=push@1,acme/b=verify"`.
 */
import type { RepoRow } from "../core/jobs/index.ts";

export const CRASH_STEPS = ["clone", "change", "verify", "commit", "push", "pull_request", "report"] as const;

type Rule = { repository?: string; step: string; maxAttempt?: number };

/** Parses the variable; throws for an entry it cannot read (a test typo must not pass silently). */
export function parseCrashPoints(text: string): Rule[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(?:([^=@\s]+\/[^=@\s]+)=)?([a-z_]+)(?:@([1-9][0-9]*))?$/.exec(entry);
      if (!m || !(CRASH_STEPS as readonly string[]).includes(m[2]!)) throw new Error(`CODY_TEST_CRASH_AT: cannot read ${JSON.stringify(entry)}`);
      return { ...(m[1] ? { repository: m[1] } : {}), step: m[2]!, ...(m[3] ? { maxAttempt: Number(m[3]) } : {}) };
    });
}

/**
 * The runner's crash hook for an environment, or undefined when none is configured (always
 * undefined unless NODE_ENV=test). `kill` defaults to SIGKILL of this process.
 */
export function crashPointsFrom(
  env: NodeJS.ProcessEnv,
  kill: () => void = () => process.kill(process.pid, "SIGKILL"),
): ((step: string, row: RepoRow) => void) | undefined {
  if (env.NODE_ENV !== "test" || !env.CODY_TEST_CRASH_AT) return undefined;
  const rules = parseCrashPoints(env.CODY_TEST_CRASH_AT);
  return (step, row) => {
    const hit = rules.some(
      (r) => r.step === step && (r.repository === undefined || r.repository === row.repositoryName) && (r.maxAttempt === undefined || row.attempt <= r.maxAttempt),
    );
    if (hit) kill();
  };
}
