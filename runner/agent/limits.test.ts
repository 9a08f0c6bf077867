import { describe, expect, it } from "vitest";
import { agentLimitsFrom, DEFAULT_AGENT_LIMITS } from "./limits.ts";
import { estimateCostUsd, priceFor } from "./pricing.ts";

describe("agentLimitsFrom", () => {
  it.for([
    { name: "defaults when unset", env: {}, want: DEFAULT_AGENT_LIMITS },
    { name: "empty values keep defaults", env: { CLAUDE_MAX_TURNS: " " }, want: DEFAULT_AGENT_LIMITS },
    {
      name: "every variable",
      env: {
        CLAUDE_MAX_TURNS: "5",
        CLAUDE_MAX_TOTAL_TOKENS: "1000",
        CLAUDE_TIME_LIMIT_SECONDS: "60",
        CLAUDE_MAX_TOOL_RESULT_BYTES: "2048",
        CLAUDE_MAX_FILE_BYTES: "4096",
        CLAUDE_MAX_OUTPUT_TOKENS: "1024",
        CLAUDE_MAX_RETRIES: "0",
      },
      want: { maxTurns: 5, maxTotalTokens: 1000, timeLimitSeconds: 60, maxToolResultBytes: 2048, maxFileBytes: 4096, maxOutputTokens: 1024, maxRetries: 0 },
    },
  ])("$name", (tc) => {
    expect(agentLimitsFrom(tc.env)).toEqual(tc.want);
  });

  it.for([
    { env: { CLAUDE_MAX_TURNS: "0" }, want: /^CLAUDE_MAX_TURNS: must be a whole number ≥ 1/ },
    { env: { CLAUDE_TIME_LIMIT_SECONDS: "1.5" }, want: /^CLAUDE_TIME_LIMIT_SECONDS/ },
    { env: { CLAUDE_MAX_RETRIES: "-1" }, want: /^CLAUDE_MAX_RETRIES/ },
    { env: { CLAUDE_MAX_OUTPUT_TOKENS: "64000" }, want: /^CLAUDE_MAX_OUTPUT_TOKENS: at most 21333/ },
  ])("rejects $env naming the variable", (tc) => {
    expect(() => agentLimitsFrom(tc.env)).toThrow(tc.want);
  });
});

describe("estimateCostUsd", () => {
  it.for([
    { model: "claude-sonnet-5-5", want: 3 + 15 + 3.75 + 0.3 },
    { model: "claude-opus-4-7", want: 5 + 25 + 6.25 + 0.5 },
    { model: "claude-opus-4-1", want: 15 + 75 + 18.75 + 1.5 },
    { model: "claude-haiku-4-5", want: 1 + 5 + 1.25 + 0.1 },
    { model: "some-other-model", want: 0 },
  ])("prices a million tokens of each kind on $model", (tc) => {
    const m = 1_000_000;
    expect(estimateCostUsd(tc.model, { inputTokens: m, outputTokens: m, cacheWriteTokens: m, cacheReadTokens: m })).toBeCloseTo(tc.want, 6);
  });
  it("knows no price for an unknown model", () => {
    expect(priceFor("gpt-4")).toBeUndefined();
  });
});
