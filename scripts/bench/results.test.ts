/**
 * The benchmark summary writer (the full benchmark is `make bench`, not part of the tests).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { percentile, RESULT_KEYS, resultProblems, writeResults } from "./results.ts";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function complete(): Record<string, number> {
  return Object.fromEntries(RESULT_KEYS.map((k, i) => [k, i + 0.5]));
}

describe("bench results", () => {
  it("writes every key of the issue as a number", () => {
    const dir = mkdtempSync(join(tmpdir(), "cody-bench-test-"));
    dirs.push(dir);
    const file = join(dir, "results", "latest.json");
    writeResults(file, complete(), { measuredAt: "now" });
    const written = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    for (const key of [
      "orchestration_ratio", "ack_p50_ms", "ack_p99_ms", "bot_bundle_bytes", "runner_bundle_bytes", "bot_load_ms_over_node",
      "job1000_wall_s", "job1000_create_dynamodb_requests", "job1000_dynamodb_requests", "job1000_slack_calls",
      "job1000_peak_rss_mb", "job1000_lost_or_duplicated_replies", "claude_cached_input_share",
    ]) {
      expect(typeof written[key], key).toBe("number");
    }
    expect(Object.keys(written)).toEqual([...RESULT_KEYS]);
  });

  it.for([
    { name: "a missing key", patch: { ack_p99_ms: undefined }, problem: "ack_p99_ms: missing" },
    { name: "a NaN", patch: { job1000_wall_s: Number.NaN }, problem: "job1000_wall_s: not a number (NaN)" },
    { name: "a string", patch: { bot_bundle_bytes: "12" }, problem: "bot_bundle_bytes: not a number (12)" },
    { name: "an unknown key", patch: { frobs: 1 }, problem: "frobs: unknown key" },
  ])("refuses $name and writes nothing", ({ patch, problem }) => {
    const results: Record<string, unknown> = { ...complete(), ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete results[k];
    expect(resultProblems(results)).toEqual([problem]);
    expect(() => writeResults(join(tmpdir(), "never-written", "x.json"), results)).toThrow(problem);
  });

  it("takes nearest-rank percentiles", () => {
    const xs = Array.from({ length: 200 }, (_, i) => i + 1);
    expect([percentile(xs, 50), percentile(xs, 99), percentile(xs, 100)]).toEqual([100, 198, 200]);
  });
});
