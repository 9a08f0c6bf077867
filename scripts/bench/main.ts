/**
 * `make bench`: every benchmark of issue 7, each against a baseline measured in the same run,
 * printed as ratio + absolute figures, and summarized in bench/results/latest.json (keys in
 * results.ts). Sizes are chosen to fit in well under 10 minutes on a 2-core machine; BENCH_*
 * variables change them. A subset — case names as arguments (`node --import tsx
 * scripts/bench/main.ts orchestration latency`) or BENCH_ONLY=orchestration,latency,cli,history,
 * ack,cold,job,claude,page,quality — writes bench/results/partial.json instead.
 */
import { join } from "node:path";
import { benchAck } from "./ack.ts";
import { benchClaudeCache } from "./claude-cache.ts";
import { benchCliStart, benchRealRepos, REAL_PACKAGES } from "./cli.ts";
import { benchTypedHelp } from "./cli-typed.ts";
import { benchColdStart } from "./cold-start.ts";
import { benchJob1000 } from "./job1000.ts";
import { benchLatency } from "./latency.ts";
import { ensureHistoryRemotes, HISTORY } from "./history.ts";
import { benchOrchestration } from "./orchestration.ts";
import { benchQuality } from "./quality.ts";
import { benchWebPage } from "./web-page.ts";
import { ROOT } from "./processes.ts";
import { round, writeResults } from "./results.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const only = [...(process.env.BENCH_ONLY ?? "").split(","), ...process.argv.slice(2)].filter(Boolean);
const wants = (name: string) => only.length === 0 || only.includes(name);

// The CLI and the local launcher run dist/cody.js and dist/runner.js: rebuild them first when stale.
{
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "cody.mjs"), "--help"], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CODY_ENSURE_BUNDLE: "1" } });
  if (r.status !== 0) throw new Error("bench: scripts/cody.mjs --help failed");
}

const results: Record<string, number> = {};
const lines: string[] = [];
const goal = (ok: boolean) => (ok ? "goal met" : "GOAL MISSED");
const say = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
const started = performance.now();
const stamp = () => `[${Math.round((performance.now() - started) / 1000)} s]`;

if (wants("orchestration")) {
  const repos = num("BENCH_ORCH_REPOS", 100);
  const concurrency = num("BENCH_ORCH_CONCURRENCY", 4);
  process.stderr.write(`${stamp()} orchestration: ${repos} repositories, concurrency ${concurrency}\n`);
  const o = await benchOrchestration({ repos, concurrency, rounds: num("BENCH_ORCH_ROUNDS", 3), sandboxShare: process.env.BENCH_SANDBOX_SHARE !== "0" });
  Object.assign(results, { orchestration_ratio: o.ratio, orchestration_cody_s: o.codyS, orchestration_baseline_s: o.baselineS });
  const perRepoRatio = o.breakdown.perRepoRunnerMs / o.breakdown.perRepoBaselineMs;
  say(`orchestration   ${o.ratio.toFixed(2)}× baseline (goal ≤ 1.5×, ${goal(o.ratio <= 1.5)}): cody ${o.codyS.toFixed(2)} s vs bare git pipeline ${o.baselineS.toFixed(2)} s for ${repos} repositories at concurrency ${concurrency}, sandbox on${process.getuid?.() === 0 ? "" : " (NOT root: no sandbox)"} (medians; runs cody ${o.runs.cody.map((x) => x.toFixed(2)).join("/")}, bare ${o.runs.baseline.map((x) => x.toFixed(2)).join("/")})`);
  say(`                per repository at concurrency ${concurrency}: the runner's own work ${o.breakdown.perRepoRunnerMs} ms (median, claim → terminal) = ${perRepoRatio.toFixed(2)}× the bare pipeline's ${o.breakdown.perRepoBaselineMs} ms (goal ≤ 2×, ${goal(perRepoRatio <= 2)}); the launcher and job bookkeeping ${o.breakdown.perRepoOtherMs} ms`);
  say(`                runner steps (median ms): ${Object.entries(o.breakdown.steps).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  if (o.unsandboxed) {
    const u = o.unsandboxed;
    say(`                sandbox's share: the same job with SANDBOX_UIDS=off ${u.codyS.toFixed(2)} s = ${u.ratio.toFixed(2)}× (runs ${u.runs.map((x) => x.toFixed(2)).join("/")}); the sandbox costs ${(o.codyS - u.codyS).toFixed(2)} s = ${Math.round(((o.codyS - u.codyS) / o.codyS) * 100)} % of cody's time; runner steps without it: ${Object.entries(u.steps).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
}

if (wants("latency")) {
  const repos = num("BENCH_LATENCY_REPOS", 5);
  process.stderr.write(`${stamp()} latency: cody run --concurrency 1 of a 0.5 s script over ${repos} repositories\n`);
  const l = benchLatency({ repos, rounds: num("BENCH_LATENCY_ROUNDS", 3) });
  say(`latency         first repository started ${l.firstStartMs} ms after the job was written (goal ≤ 300 ms, ${goal(l.firstStartMs <= 300)}); ${l.perRepoMs} ms per repository at concurrency 1 for a 0.5 s script (goal ≤ 800 ms, ${goal(l.perRepoMs <= 800)}) vs the bare loop's ${l.barePerRepoMs} ms (runs: first start ${l.runs.firstStart.join("/")} ms, per repository ${l.runs.perRepo.map((x) => Math.round(x)).join("/")} ms, bare ${l.runs.bare.map((x) => Math.round(x)).join("/")} ms)`);
  say(`                runner steps (median ms): ${Object.entries(l.steps).map(([k, v]) => `${k} ${v}`).join(", ")}`);
}

if (wants("history")) {
  const count = num("BENCH_HISTORY_REPOS", 3);
  process.stderr.write(`${stamp()} full-history repositories: ${count} × ${HISTORY.commits} commits, ${HISTORY.files} files (git fast-import, made once)\n`);
  const { remotes, repos } = ensureHistoryRemotes(count);
  const entry = process.env.BENCH_ENTRY === "node" ? "node" : "npx";
  const h = benchRealRepos({ rounds: num("BENCH_REAL_ROUNDS", 3), entry, remotes, repos });
  const b = h.breakdown;
  say(`history repos   ${h.ratio.toFixed(2)}× bare loop (goal ≤ 3×, ${goal(h.ratio <= 3)}): \`${entry === "npx" ? "npx cody" : "node scripts/cody.mjs"} run\` ${h.codyS.toFixed(2)} s (as README tells users, CLI start included, stack running) vs git clone --depth 1 + script + git diff loop ${h.baselineS.toFixed(2)} s over ${count} repositories of ${HISTORY.commits} commits and ${HISTORY.files} files (runs cody ${h.runs.cody.map((x) => x.toFixed(2)).join("/")}, bare ${h.runs.baseline.map((x) => x.toFixed(2)).join("/")})`);
  say(`                breakdown (medians): start → job written ${b.toSubmitMs} ms, → first runner working ${b.toFirstRunnerMs} ms, repositories ${b.reposMs} ms, last done → exit ${b.afterMs} ms; runner steps: ${Object.entries(h.steps).map(([k, v]) => `${k} ${v}`).join(", ")}`);
}

if (wants("cli") || wants("typed")) {
  process.stderr.write(`${stamp()} ./cody --help as README says to type it, on a fresh clone\n`);
  const t = benchTypedHelp({ runs: num("BENCH_CLI_RUNS", 9) });
  Object.assign(results, { cli_typed_help_ms_over_node: t.overMs });
  say(`typed --help    ./cody --help on a fresh clone ${t.typedMs} ms = node + ${t.overMs} ms (goal ≤ +150 ms, ${goal(t.overMs <= 150)}); node -e 0 ${t.nodeMs} ms`);
}

if (wants("cli")) {
  process.stderr.write(`${stamp()} CLI start: --help, list on a running stack\n`);
  const c = benchCliStart({ runs: num("BENCH_CLI_RUNS", 9) });
  Object.assign(results, { cli_help_ms_over_node: c.helpOverMs, cli_list_ms_over_node: c.listOverMs, cli_node_ms: c.nodeMs });
  say(`cli start       cody --help ${c.helpMs} ms = node + ${c.helpOverMs} ms (goal ≤ +100 ms, ${goal(c.helpOverMs <= 100)}); cody list on a running stack ${c.listMs} ms = node + ${c.listOverMs} ms (goal ≤ +250 ms, ${goal(c.listOverMs <= 250)}); node -e 0 ${c.nodeMs} ms`);
  say(`                breakdown: import dist/cody.js alone ${c.importMs} ms (+${round(c.importMs - c.nodeMs, 1)}), scripts/cody.mjs's freshness check and --help ${round(c.helpMs - c.importMs, 1)} ms, list's chunks + stack check + one DynamoDB query ${round(c.listMs - c.helpMs, 1)} ms`);
  process.stderr.write(`${stamp()} cody run over ${REAL_PACKAGES.join(", ")} (from node_modules)\n`);
  const entry = process.env.BENCH_ENTRY === "node" ? "node" : "npx";
  const r = benchRealRepos({ rounds: num("BENCH_REAL_ROUNDS", 5), entry });
  const b = r.breakdown;
  Object.assign(results, { real_repos_ratio: r.ratio, real_repos_cody_s: r.codyS, real_repos_baseline_s: r.baselineS });
  say(`real repos      ${r.ratio.toFixed(2)}× bare loop (goal ≤ 3×, ${goal(r.ratio <= 3)}): \`${entry === "npx" ? "npx cody" : "node scripts/cody.mjs"} run\` ${r.codyS.toFixed(2)} s (as README tells users, CLI start included, stack running) vs git clone --depth 1 + script + git diff loop ${r.baselineS.toFixed(2)} s over ${REAL_PACKAGES.join(", ")} (published npm files as one-commit repositories; runs cody ${r.runs.cody.map((x) => x.toFixed(2)).join("/")}, bare ${r.runs.baseline.map((x) => x.toFixed(2)).join("/")})`);
  say(`                breakdown (medians): start → job written ${b.toSubmitMs} ms, → first runner working ${b.toFirstRunnerMs} ms, repositories ${b.reposMs} ms, last done → exit ${b.afterMs} ms`);
}

if (wants("ack")) {
  process.stderr.write(`${stamp()} bot acknowledgement latency\n`);
  const a = await benchAck({ total: num("BENCH_ACK_REQUESTS", 200), parallel: num("BENCH_ACK_PARALLEL", 20) });
  Object.assign(results, { ack_p50_ms: a.p50, ack_p99_ms: a.p99, ack_baseline_p50_ms: a.baselineP50, ack_baseline_p99_ms: a.baselineP99 });
  say(`bot ack         p99 ${(a.p99 / a.baselineP99).toFixed(2)}× / p50 ${(a.p50 / a.baselineP50).toFixed(2)}× bare node server (goal p99 ≤ 300 ms, ${goal(a.p99 <= 300)}): p50 ${a.p50} ms, p99 ${a.p99} ms vs bare p50 ${a.baselineP50} ms, p99 ${a.baselineP99} ms; ${a.ok} × 200, ${a.modalsOpened} modals opened`);
}

if (wants("cold")) {
  process.stderr.write(`${stamp()} cold start (build, bundle load)\n`);
  const c = benchColdStart({ runs: num("BENCH_COLD_RUNS", 9) });
  Object.assign(results, { bot_bundle_bytes: c.botBytes, runner_bundle_bytes: c.runnerBytes, bot_load_ms: c.botLoadMs, node_load_ms: c.nodeMs, bot_load_ms_over_node: c.overMs });
  say(`cold start      ${c.ratio.toFixed(2)}× node -e 0 (goal ≤ +150 ms, ${goal(c.overMs <= 150)}): import dist/bot.js ${c.botLoadMs} ms vs ${c.nodeMs} ms = +${c.overMs} ms; dist/bot.js ${(c.botBytes / 1024).toFixed(0)} KiB, dist/runner.js ${(c.runnerBytes / 1024).toFixed(0)} KiB`);
}

if (wants("job")) {
  const repos = num("BENCH_JOB_REPOS", 1000);
  const concurrency = num("BENCH_JOB_CONCURRENCY", 8);
  process.stderr.write(`${stamp()} ${repos}-repository job, concurrency ${concurrency}\n`);
  const j = await benchJob1000({ repos, concurrency, rateLimitFraction: num("BENCH_SLACK_429", 0.05), retryAfterSeconds: num("BENCH_SLACK_RETRY_AFTER", 1) });
  const baselineS = results.orchestration_baseline_s !== undefined ? (results.orchestration_baseline_s * repos) / num("BENCH_ORCH_REPOS", 100) : Number.NaN;
  Object.assign(results, {
    job1000_wall_s: j.wallS,
    job1000_create_dynamodb_requests: j.createRequests,
    job1000_dynamodb_requests: j.totalRequests,
    job1000_dynamodb_requests_per_repo: j.perRepo,
    job1000_slack_calls: j.slackCalls,
    job1000_slack_429s: j.slack429s,
    job1000_peak_rss_mb: j.peakRssMb,
    job1000_lost_or_duplicated_replies: j.lostOrDuplicated,
  });
  const ok = j.createRequests <= 45 && j.perRepo <= 10 && j.slackCalls <= j.slackGoal && j.peakRssMb < 300 && j.lostOrDuplicated === 0;
  say(`job ${repos}        ${Number.isFinite(baselineS) ? `${(j.wallS / baselineS).toFixed(2)}× the bare pipeline's time scaled to ${repos} repositories (${baselineS.toFixed(1)} s; goal ≤ 2×, ${goal(j.wallS / baselineS <= 2)})` : "(no baseline: orchestration not run)"}; ${j.status} in ${j.wallS} s (${goal(ok)})`);
  say(`                DynamoDB: ${j.createRequests} to create (goal ≤ 45), ${j.runRequests} more = ${j.perRepo} per repository (goal ≤ 10), ${j.totalRequests} in all`);
  say(`                Slack: ${j.slackCalls} calls (goal ≤ N/4 + 60 = ${j.slackGoal}; ${(j.slackCalls / j.slackGoal).toFixed(2)}× of it), ${j.slack429s} answered 429, ${j.replies} thread replies; lost or duplicated replies ${j.lostOrDuplicated} (goal 0)`);
  say(`                peak RSS of the orchestrating process ${j.peakRssMb} MB (goal < 300 MB)`);
}

if (wants("claude")) {
  process.stderr.write(`${stamp()} Claude cache share\n`);
  const k = await benchClaudeCache();
  Object.assign(results, { claude_cached_input_share: k.cachedShare, claude_baseline_cached_input_share: k.baselineCachedShare });
  say(`claude cache    ${(k.cachedShare / k.baselineCachedShare).toFixed(2)}× static breakpoints only (goal ≥ 0.8, ${goal(k.cachedShare >= 0.8)}): ${round(k.cachedShare * 100, 1)} % of each request's input served from the previous request's cache entry, turns 3–10 (least ${round(k.readShare * 100, 1)} %), vs ${round(k.baselineCachedShare * 100, 1)} % with tools+system breakpoints only; ${round(k.share * 100, 1)} % sits before its own last breakpoint; request sizes ≈ ${k.requestTokens.join(", ")} tokens`);
}

if (wants("quality")) {
  const repos = num("BENCH_QUALITY_REPOS", 4);
  process.stderr.write(`${stamp()} change quality: judge, cost cap, healing over ${repos} repositories\n`);
  const q = await benchQuality({ repos });
  Object.assign(results, {
    judge_token_share: round(q.judgeTokenShare, 4),
    judge_tokens_ratio: round(q.judgeTokensRatio, 3),
    budget_dynamodb_requests_ratio: round(q.budgetRequestsRatio, 3),
    budget_extra_dynamodb_requests_per_model_request: round(q.budgetExtraPerModelRequest, 2),
    heal_wall_ratio: round(q.healWallRatio, 2),
    heal_tokens_ratio: round(q.healTokensRatio, 3),
  });
  say(`scope judge     ${q.judgeTokensRatio.toFixed(3)}× the job's tokens without the judge: the judge's requests are ${round(q.judgeTokenShare * 100, 1)} % of a judged job's tokens (${repos} repositories, 6-turn conversations, sizes from the requests' JSON)`);
  say(`cost cap        ${q.budgetRequestsRatio.toFixed(3)}× DynamoDB requests of the same job without a cap: +${q.budgetExtraPerModelRequest.toFixed(2)} requests per model request (the counter's read before each request; the ADD after each response is made with or without a cap)`);
  say(`healing         one attempt costs ${q.healWallRatio.toFixed(2)}× the wall time and ${q.healTokensRatio.toFixed(3)}× the tokens of the repository's original attempt (clone of the PR branch, agent, judge, one commit pushed without force)`);
}

if (wants("page")) {
  const repos = num("BENCH_PAGE_REPOS", 1000);
  process.stderr.write(`${stamp()} job page of a ${repos}-repository campaign in headless chromium\n`);
  const w = await benchWebPage({ repos, runs: num("BENCH_PAGE_RUNS", 5) });
  Object.assign(results, { page1000_html_bytes: w.htmlBytes, page1000_json_bytes: w.jsonBytes, page1000_server_ms: w.serverMs, page1000_first_paint_ms: w.firstPaintMs, page1000_baseline_first_paint_ms: w.baselineFirstPaintMs });
  say(`job page        ${w.ratio.toFixed(2)}× a bare table's first paint: first contentful paint ${w.firstPaintMs} ms vs ${w.baselineFirstPaintMs} ms (medians, headless chromium) for ${repos} repositories; HTML ${(w.htmlBytes / 1024).toFixed(0)} KiB, JSON ${(w.jsonBytes / 1024).toFixed(0)} KiB, built and served in ${w.serverMs} ms`);
}

say(`total ${Math.round((performance.now() - started) / 1000)} s`);
const file = join(ROOT, "bench", "results", only.length === 0 ? "latest.json" : "partial.json");
if (only.length === 0) {
  writeResults(file, results, { measuredAt: new Date().toISOString(), node: process.version, cpus: (await import("node:os")).cpus().length, summary: lines });
  process.stdout.write(`wrote ${file}\n`);
} else {
  const { writeFileSync, mkdirSync } = await import("node:fs");
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`wrote ${file} (partial run)\n`);
}
