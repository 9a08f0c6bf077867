/**
 * The CLI's own start, and `cody run` over three real repositories, each against a baseline in
 * the same run (medians of alternating runs):
 * - `cody --help` and `cody list` (on a running stack daemon) against bare `node -e 0`, with the
 *   breakdown: import of dist/cody.js alone, the freshness check of scripts/cody.mjs, and what
 *   `list` adds (its chunks, the stack check, one DynamoDB query);
 * - `cody run` of a one-line script over express, chalk and is-number, made into bare git
 *   remotes from the packages' published files in node_modules (npm ships no git history; one
 *   commit each), against a bare `git clone --depth 1` + script + `git diff` loop.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BENCH_DIR } from "./fixtures.ts";
import { ROOT } from "./processes.ts";
import { median, round } from "./results.ts";
import { medianSteps } from "./orchestration.ts";

const CODY = join(ROOT, "scripts", "cody.mjs");
/** The real packages (in node_modules) the repositories are made from. */
export const REAL_PACKAGES = ["express", "chalk", "is-number"] as const;
/** The one-line change: a version suffix in package.json. */
const REAL_SCRIPT = `sed -i 's/"version": "\\([^"]*\\)"/"version": "\\1-cody"/' package.json`;

function timeSpawn(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr.slice(-400)}`);
  return ms;
}

export type CliStartResult = { nodeMs: number; helpMs: number; importMs: number; listMs: number; helpOverMs: number; listOverMs: number };

/** `cody --help` and `cody list` (stack already running) against `node -e 0`. */
export function benchCliStart(opts: { runs: number }): CliStartResult {
  const dir = mkdtempSync(join(BENCH_DIR, "cli-"));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CODY_DIR: dir, LOG_LEVEL: "silent", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  try {
    timeSpawn([CODY, "stack", "start"], env); // also rebuilds the bundle when stale
    const importOnly = ["--input-type=module", "-e", `await import(${JSON.stringify(pathToFileURL(join(ROOT, "dist", "cody.js")).href)});`];
    const runs = { node: [] as number[], help: [] as number[], imp: [] as number[], list: [] as number[] };
    for (let i = -1; i < opts.runs; i++) {
      const n = timeSpawn(["-e", "0"], env);
      const h = timeSpawn([CODY, "--help"], env);
      const m = timeSpawn(importOnly, env);
      const l = timeSpawn([CODY, "list"], env);
      if (i < 0) continue; // warm-up
      runs.node.push(n);
      runs.help.push(h);
      runs.imp.push(m);
      runs.list.push(l);
    }
    const [nodeMs, helpMs, importMs, listMs] = [runs.node, runs.help, runs.imp, runs.list].map((x) => round(median(x), 1)) as [number, number, number, number];
    return { nodeMs, helpMs, importMs, listMs, helpOverMs: round(helpMs - nodeMs, 1), listOverMs: round(listMs - nodeMs, 1) };
  } finally {
    spawnSync(process.execPath, [CODY, "stack", "stop"], { env, stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bare remotes `real/<package>.git` from the packages' published files (made once). */
function ensureRealRemotes(): string {
  const remotes = join(BENCH_DIR, "real-remotes");
  for (const name of REAL_PACKAGES) {
    const bare = join(remotes, "real", `${name}.git`);
    if (existsSync(join(bare, "HEAD"))) continue;
    const src = mkdtempSync(join(BENCH_DIR, "real-src-"));
    const from = join(ROOT, "node_modules", name);
    cpSync(from, src, { recursive: true, filter: (p) => !p.slice(from.length).includes("/node_modules") });
    const git = (args: string[], cwd: string) => execFileSync("git", args, { cwd, stdio: "ignore", env: { ...process.env, GIT_AUTHOR_NAME: "bench", GIT_AUTHOR_EMAIL: "bench@example.com", GIT_COMMITTER_NAME: "bench", GIT_COMMITTER_EMAIL: "bench@example.com" } });
    git(["init", "-q", "-b", "main"], src);
    git(["add", "-A"], src);
    git(["commit", "-q", "-m", `${name} as published on npm`], src);
    mkdirSync(join(remotes, "real"), { recursive: true });
    git(["clone", "-q", "--bare", src, bare], remotes);
    rmSync(src, { recursive: true, force: true });
  }
  return remotes;
}

/** Where one `cody run` spent its time (ms, medians): start → job written, → first runner working, → last repository done, → exit. */
export type RunBreakdown = { toSubmitMs: number; toFirstRunnerMs: number; reposMs: number; afterMs: number };
export type RealReposResult = { codyS: number; baselineS: number; ratio: number; breakdown: RunBreakdown; runs: { cody: number[]; baseline: number[] }; steps: Record<string, number> };

/**
 * How `cody` is started: `npx` as README tells users (`npx cody run …`, npm resolving the
 * project's own bin; `--offline` so npm never asks the registry), or `node` (`node scripts/cody.mjs`).
 */
export type CodyEntry = "npx" | "node";
const entryCommand = (entry: CodyEntry): [string, string[]] => (entry === "npx" ? ["npx", ["--offline", "cody"]] : [process.execPath, [CODY]]);

/**
 * `cody run` (the CLI's start included, the stack daemon running) against the bare loop, over the
 * published-files repositories, or `opts.repos` under `opts.remotes` (e.g. full-history ones).
 */
export function benchRealRepos(opts: { rounds: number; entry?: CodyEntry; remotes?: string; repos?: readonly string[] }): RealReposResult {
  const remotes = opts.remotes ?? ensureRealRemotes();
  const names = opts.repos ?? REAL_PACKAGES.map((n) => `real/${n}`);
  const dir = mkdtempSync(join(BENCH_DIR, "real-"));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CODY_DIR: dir, GIT_BASE_URL: `file://${remotes}`, LOG_LEVEL: "silent", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  const repos = names.join(",");
  const parts: RunBreakdown[] = [];
  const steps: Record<string, number>[] = [];
  const [cmd, pre] = entryCommand(opts.entry ?? "npx");
  const cody = () => {
    const t0 = Date.now();
    const r = spawnSync(cmd, [...pre, "run", "--repo", repos, "--script", REAL_SCRIPT, "--json"], { env, encoding: "utf8", cwd: ROOT });
    const t1 = Date.now();
    if (r.status !== 0) throw new Error(`cody run exited ${r.status}: ${r.stderr.slice(-400)}`);
    const job = JSON.parse(r.stdout) as { createdAt: string; repositories: { status: string; startedAt?: string; finishedAt?: string; timings?: Record<string, number> }[] };
    for (const x of job.repositories) if (x.timings) steps.push(x.timings);
    if (!job.repositories.every((x) => x.status === "COMPLETED")) throw new Error(`cody run: ${job.repositories.map((x) => x.status).join(", ")}`);
    const at = (xs: (string | undefined)[], f: (...n: number[]) => number) => f(...xs.map((x) => Date.parse(x!)));
    const submitted = Date.parse(job.createdAt);
    const firstRunner = at(job.repositories.map((x) => x.startedAt), Math.min);
    const lastDone = at(job.repositories.map((x) => x.finishedAt), Math.max);
    parts.push({ toSubmitMs: submitted - t0, toFirstRunnerMs: firstRunner - submitted, reposMs: lastDone - firstRunner, afterMs: t1 - lastDone });
    return (t1 - t0) / 1000;
  };
  const bare = () => {
    const work = mkdtempSync(join(BENCH_DIR, "real-bare-"));
    const loop = names.map((n, i) => `git clone -q --depth 1 file://${remotes}/${n}.git ${work}/${i} && (cd ${work}/${i} && ${REAL_SCRIPT} && git diff --no-color > ../${i}.diff)`).join(" && ");
    const t0 = performance.now();
    execFileSync("sh", ["-c", loop], { stdio: "ignore" });
    const s = (performance.now() - t0) / 1000;
    rmSync(work, { recursive: true, force: true });
    return s;
  };
  const runs = { cody: [] as number[], baseline: [] as number[] };
  try {
    timeSpawn([CODY, "stack", "start"], env);
    cody();
    bare();
    parts.length = 0;
    steps.length = 0;
    for (let i = 0; i < opts.rounds; i++) {
      runs.baseline.push(bare());
      runs.cody.push(cody());
    }
  } finally {
    spawnSync(process.execPath, [CODY, "stack", "stop"], { env, stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  }
  const codyS = median(runs.cody);
  const baselineS = median(runs.baseline);
  const med = (k: keyof RunBreakdown) => round(median(parts.map((p) => p[k])), 0);
  const breakdown = { toSubmitMs: med("toSubmitMs"), toFirstRunnerMs: med("toFirstRunnerMs"), reposMs: med("reposMs"), afterMs: med("afterMs") };
  return { codyS: round(codyS, 3), baselineS: round(baselineS, 3), ratio: round(codyS / baselineS, 2), breakdown, runs, steps: medianSteps(steps) };
}
