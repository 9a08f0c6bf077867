/**
 * Cold start: `scripts/build.mjs` (esbuild), the sizes of dist/bot.js and dist/runner.js, and
 * the time to start Node and import the bot bundle against bare `node -e 0` (median of several
 * alternating runs).
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./processes.ts";
import { median, round } from "./results.ts";

export type ColdStartResult = { botBytes: number; runnerBytes: number; botLoadMs: number; nodeMs: number; overMs: number; ratio: number };

export function benchColdStart(opts: { runs: number }): ColdStartResult {
  const build = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const bot = join(ROOT, "dist", "bot.js");
  const runner = join(ROOT, "dist", "runner.js");
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  const time = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { env, stdio: "ignore" });
    if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}`);
    return performance.now() - t0;
  };
  const load = ["--input-type=module", "-e", `await import(${JSON.stringify(pathToFileURL(bot).href)});`];
  time(["-e", "0"]);
  time(load);
  const nodeMs: number[] = [];
  const botMs: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    nodeMs.push(time(["-e", "0"]));
    botMs.push(time(load));
  }
  const n = median(nodeMs);
  const b = median(botMs);
  return {
    botBytes: statSync(bot).size,
    runnerBytes: statSync(runner).size,
    botLoadMs: round(b, 1),
    nodeMs: round(n, 1),
    overMs: round(b - n, 1),
    ratio: round(b / n, 2),
  };
}
