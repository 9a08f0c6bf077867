/**
 * The change-quality flags of `cody run` (issue 19) and the budget lines of `--plan`.
 */
import { describe, expect, it } from "vitest";
import { budgetPlanLines, qualityRequest } from "./cli-quality.ts";

describe("cody run quality flags", () => {
  it.for([
    { name: "nothing given, no default", flags: {}, config: {}, want: { kind: "ok", fields: {} } },
    { name: "the default cap applies", flags: {}, config: { defaultJobBudgetUsd: 25 }, want: { kind: "ok", fields: { budgetUsd: 25 } } },
    { name: "--budget-usd beats the default", flags: { "budget-usd": "$2.5" }, config: { defaultJobBudgetUsd: 25 }, want: { kind: "ok", fields: { budgetUsd: 2.5 } } },
    { name: "--no-judge and --heal", flags: { "no-judge": true, heal: "2" }, config: {}, want: { kind: "ok", fields: { judge: false, heal: 2 } } },
    { name: "both judge flags", flags: { judge: true, "no-judge": true }, config: {}, want: { kind: "invalid", message: "give --judge or --no-judge, not both" } },
    { name: "a budget that is not money", flags: { "budget-usd": "lots" }, config: {}, want: { kind: "invalid", message: '--budget-usd takes a number of dollars above 0, got "lots"' } },
    { name: "heal that is not whole", flags: { heal: "1.5" }, config: {}, want: { kind: "invalid", message: '--heal takes a whole number of attempts, got "1.5"' } },
  ])("$name", (tc) => {
    expect(qualityRequest(tc.flags, {}, tc.config)).toEqual(tc.want);
  });

  it("prints the cap and the mean cost per repository of earlier jobs for a Claude plan, nothing for a plain script", async () => {
    const earlier = async () => [
      { type: "code-pattern-update", finishedAt: "x", counters: { total: 2, completed: 2, noChanges: 0, failed: 0, cancelled: 0 }, totals: { prsOpened: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costMicroUsd: 500_000 } },
    ] as never;
    expect(await budgetPlanLines({ type: "code-pattern-update", budgetUsd: 5, repositories: ["a/b", "a/c", "a/d", "a/e"] }, earlier)).toEqual([
      "budget: $5 for the whole job (no model request is sent once it is spent)",
      "mean cost per repository of earlier Claude jobs: $0.2500 (1 job, 2 repositories); about $1.00 for 4 repositories",
    ]);
    expect(await budgetPlanLines({ type: "code-pattern-update", repositories: ["a/b"] }, async () => { throw new Error("no store"); })).toEqual(["budget: no cap (--budget-usd N or DEFAULT_JOB_BUDGET_USD sets one)"]);
    expect(await budgetPlanLines({ type: "script", repositories: ["a/b"] }, earlier)).toEqual([]);
  });
});
