/**
 * The spend words and numbers (issue 19): cap reached, the spend line, the mean cost of earlier jobs.
 */
import { describe, expect, it } from "vitest";
import { budgetReason, formatUsd, isBudgetSpent, meanCostPerRepository, spendLine, toMicroUsd } from "./spend.ts";

describe("job spend", () => {
  it.for([
    { name: "no cap is never spent", spend: 10_000_000, cap: undefined, want: false },
    { name: "below the cap", spend: 999, cap: 0.001, want: false },
    { name: "at the cap", spend: 1000, cap: 0.001, want: true },
    { name: "over the cap", spend: 2100, cap: 0.001, want: true },
  ])("$name", (tc) => {
    expect(isBudgetSpent(tc.spend, tc.cap)).toBe(tc.want);
  });

  it("words caps and spend for people", () => {
    expect(toMicroUsd(0.0063)).toBe(6300);
    expect(formatUsd(5)).toBe("$5");
    expect(formatUsd(0.25)).toBe("$0.25");
    expect(budgetReason(0.001)).toBe("job budget of $0.001 spent");
    expect(spendLine({ spendMicroUsd: 420_000, budgetUsd: 5 })).toBe("Spend $0.42 of $5 (8 %)");
    expect(spendLine({ spendMicroUsd: 2100, budgetUsd: 0.001 })).toBe("Spend $0.0021 of $0.001 (210 %) · cap reached");
    expect(spendLine({ spendMicroUsd: 1_230_000 })).toBe("Spend $1.23 (no cap)");
    expect(spendLine({})).toBeUndefined();
  });

  it("averages the cost per repository of earlier finished Claude jobs only", () => {
    const counters = (n: number) => ({ total: n, completed: n, noChanges: 0, failed: 0, cancelled: 0 });
    const totals = (micro: number) => ({ prsOpened: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costMicroUsd: micro });
    expect(
      meanCostPerRepository([
        { type: "code-pattern-update", finishedAt: "x", counters: counters(4), totals: totals(400_000) },
        { type: "code-pattern-update", finishedAt: "x", counters: counters(1), totals: totals(100_000) },
        { type: "script", finishedAt: "x", counters: counters(10), totals: totals(0) },
        { type: "code-pattern-update", counters: counters(3), totals: totals(900_000) },
      ]),
    ).toEqual({ usd: 0.1, jobs: 2, repositories: 5 });
    expect(meanCostPerRepository([])).toBeUndefined();
  });
});
