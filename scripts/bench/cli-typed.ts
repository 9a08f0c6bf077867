/**
 * `./cody --help` the way README tells people to type it, on a fresh clone (a `git clone` of this
 * repository's HEAD: no dist/, no node_modules), against bare `node -e 0` in the same run (medians
 * of alternating runs). Goal: node + 150 ms. Run alone with `BENCH_ONLY=typed make bench`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR } from "./fixtures.ts";
import { ROOT } from "./processes.ts";
import { median, round } from "./results.ts";

export type TypedHelpResult = { nodeMs: number; typedMs: number; overMs: number };

function time(command: string, args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(command, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}: ${r.stderr.slice(-400)}`);
  if (args[0] === "--help" && !r.stdout.startsWith("usage:")) throw new Error(`${command} --help printed no usage`);
  return ms;
}

/** Clones HEAD into a temporary directory and times `./cody --help` there against `node -e 0`. */
export function benchTypedHelp(opts: { runs: number }): TypedHelpResult {
  mkdirSync(BENCH_DIR, { recursive: true });
  const dir = mkdtempSync(join(BENCH_DIR, "clone-"));
  try {
    execFileSync("git", ["clone", "-q", "--no-local", ROOT, dir], { stdio: "ignore" });
    const node: number[] = [];
    const typed: number[] = [];
    for (let i = -1; i < opts.runs; i++) {
      const n = time(process.execPath, ["-e", "0"], dir);
      const t = time("./cody", ["--help"], dir);
      if (i < 0) continue; // warm-up
      node.push(n);
      typed.push(t);
    }
    const nodeMs = round(median(node), 1);
    const typedMs = round(median(typed), 1);
    return { nodeMs, typedMs, overMs: round(typedMs - nodeMs, 1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
