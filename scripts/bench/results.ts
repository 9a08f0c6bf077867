/**
 * The benchmark summary: the keys `make bench` must produce (issue 7), each a number, written as
 * JSON to `bench/results/latest.json`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Every key of the summary, in the order they are written. */
export const RESULT_KEYS = [
  "orchestration_ratio",
  "orchestration_cody_s",
  "orchestration_baseline_s",
  "cli_help_ms_over_node",
  "cli_list_ms_over_node",
  "cli_node_ms",
  "cli_typed_help_ms_over_node",
  "real_repos_ratio",
  "real_repos_cody_s",
  "real_repos_baseline_s",
  "ack_p50_ms",
  "ack_p99_ms",
  "ack_baseline_p50_ms",
  "ack_baseline_p99_ms",
  "bot_bundle_bytes",
  "runner_bundle_bytes",
  "bot_load_ms",
  "node_load_ms",
  "bot_load_ms_over_node",
  "job1000_wall_s",
  "job1000_create_dynamodb_requests",
  "job1000_dynamodb_requests",
  "job1000_dynamodb_requests_per_repo",
  "job1000_slack_calls",
  "job1000_slack_429s",
  "job1000_peak_rss_mb",
  "job1000_lost_or_duplicated_replies",
  "claude_cached_input_share",
  "claude_baseline_cached_input_share",
  "judge_token_share",
  "judge_tokens_ratio",
  "budget_dynamodb_requests_ratio",
  "budget_extra_dynamodb_requests_per_model_request",
  "heal_wall_ratio",
  "heal_tokens_ratio",
  "page1000_html_bytes",
  "page1000_json_bytes",
  "page1000_server_ms",
  "page1000_first_paint_ms",
  "page1000_baseline_first_paint_ms",
] as const;

export type ResultKey = (typeof RESULT_KEYS)[number];
export type Results = Record<ResultKey, number>;

/**
 * Checks that `results` holds every key as a finite number and nothing else; returns the
 * problems (empty when fine).
 */
export function resultProblems(results: Partial<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const k of RESULT_KEYS) {
    const v = results[k];
    if (typeof v !== "number" || !Number.isFinite(v)) problems.push(`${k}: ${v === undefined ? "missing" : `not a number (${String(v)})`}`);
  }
  for (const k of Object.keys(results)) if (!(RESULT_KEYS as readonly string[]).includes(k)) problems.push(`${k}: unknown key`);
  return problems;
}

/**
 * Writes the summary to `file` (creating its directory) as `{ key: number, … }` in key order,
 * plus `measuredAt` / `machine` beside it in `<file>.meta.json`. Throws when a key is missing or
 * not a number, so a broken benchmark never writes a half summary.
 */
export function writeResults(file: string, results: Partial<Record<string, unknown>>, meta: Record<string, unknown> = {}): Results {
  const problems = resultProblems(results);
  if (problems.length > 0) throw new Error(`benchmark summary incomplete: ${problems.join("; ")}`);
  const ordered = Object.fromEntries(RESULT_KEYS.map((k) => [k, results[k] as number])) as Results;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(ordered, null, 2)}\n`);
  writeFileSync(file.replace(/\.json$/, ".meta.json"), `${JSON.stringify(meta, null, 2)}\n`);
  return ordered;
}

/** Rounds to `digits` decimals (figures are printed and stored rounded). */
export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The p-th percentile (0..100) of `values` (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
