/**
 * Start-up latency of a job (issue 24): `cody run --concurrency 1` of a script that sleeps 0.5 s
 * over a few repositories, the stack daemon running, against a bare loop doing clone + the same
 * script + diff one repository after the other. Reports how long after the job is written its
 * first repository starts (the row's startedAt − the job's createdAt) and what each repository
 * costs (job written → last repository done, divided by the repositories).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR, ensureRemotes, REMOTES, SCRIPT } from "./fixtures.ts";
import { medianSteps } from "./orchestration.ts";
import { ROOT } from "./processes.ts";
import { median, round } from "./results.ts";

const CODY = join(ROOT, "scripts", "cody.mjs");
const SLEEPY = `${SCRIPT} && sleep 0.5`;

export type LatencyResult = { repos: number; firstStartMs: number; perRepoMs: number; barePerRepoMs: number; steps: Record<string, number>; runs: { firstStart: number[]; perRepo: number[]; bare: number[] } };

/** `rounds` alternating rounds of `repos` repositories each; medians. */
export function benchLatency(opts: { repos: number; rounds: number }): LatencyResult {
  const { names, gitBaseUrl } = ensureRemotes(opts.repos);
  const dir = mkdtempSync(join(BENCH_DIR, "latency-"));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CODY_DIR: dir, GIT_BASE_URL: gitBaseUrl, LOG_LEVEL: "silent", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  const runs = { firstStart: [] as number[], perRepo: [] as number[], bare: [] as number[] };
  const steps: Record<string, number>[] = [];
  const cody = () => {
    const r = spawnSync(process.execPath, [CODY, "run", "--concurrency", "1", "--repo", names.join(","), "--script", SLEEPY, "--json"], { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cody run exited ${r.status}: ${r.stderr.slice(-400)}`);
    const job = JSON.parse(r.stdout) as { createdAt: string; repositories: { status: string; startedAt: string; finishedAt: string; timings?: Record<string, number> }[] };
    if (!job.repositories.every((x) => x.status === "COMPLETED")) throw new Error(`latency: ${job.repositories.map((x) => x.status).join(", ")}`);
    const written = Date.parse(job.createdAt);
    const first = Math.min(...job.repositories.map((x) => Date.parse(x.startedAt)));
    const last = Math.max(...job.repositories.map((x) => Date.parse(x.finishedAt)));
    for (const x of job.repositories) if (x.timings) steps.push(x.timings);
    return { firstStart: first - written, perRepo: (last - written) / names.length };
  };
  const bare = () => {
    const work = mkdtempSync(join(BENCH_DIR, "latency-bare-"));
    const loop = names.map((n, i) => `git clone -q --no-tags --single-branch --depth 1 file://${REMOTES}/${n}.git ${work}/${i} && (cd ${work}/${i} && ${SLEEPY} && git diff --no-color > ../${i}.diff)`).join(" && ");
    const t0 = performance.now();
    execFileSync("sh", ["-c", loop], { stdio: "ignore" });
    const ms = (performance.now() - t0) / names.length;
    rmSync(work, { recursive: true, force: true });
    return ms;
  };
  try {
    spawnSync(process.execPath, [CODY, "stack", "start"], { env, stdio: "ignore" });
    cody();
    steps.length = 0;
    for (let i = 0; i < opts.rounds; i++) {
      runs.bare.push(bare());
      const c = cody();
      runs.firstStart.push(c.firstStart);
      runs.perRepo.push(c.perRepo);
    }
  } finally {
    spawnSync(process.execPath, [CODY, "stack", "stop"], { env, stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  }
  return { repos: names.length, firstStartMs: round(median(runs.firstStart), 0), perRepoMs: round(median(runs.perRepo), 0), barePerRepoMs: round(median(runs.bare), 0), steps: medianSteps(steps), runs };
}
