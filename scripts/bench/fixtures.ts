/**
 * Benchmark fixtures: tiny bare remotes made once under a temporary directory and reused by
 * later runs (`<tmp>/cody-bench/remotes/bench/repo-NNNN.git`), and the one-line change applied.
 */
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBareRepo } from "../example-repos.ts";

/** Where fixtures live between runs (`BENCH_DIR` overrides). */
export const BENCH_DIR = process.env.BENCH_DIR ?? join(tmpdir(), "cody-bench");
export const REMOTES = join(BENCH_DIR, "remotes");
export const GIT_BASE_URL = `file://${REMOTES}`;

/** The one-line change every benchmark applies. */
export const SCRIPT = "sed -i 's/version = 1/version = 2/' src/app.js";

/** `bench/repo-0000` … for `n` repositories. */
export function repoNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `bench/repo-${String(i).padStart(4, "0")}`);
}

/**
 * Makes (once) `n` small remotes: a README, a package.json and `src/app.js` holding the line the
 * script changes. The first is built with git; the others are copies of it.
 */
export function ensureRemotes(n: number): { names: string[]; gitBaseUrl: string } {
  const names = repoNames(n);
  const first = join(REMOTES, `${names[0]}.git`);
  if (!existsSync(join(first, "HEAD"))) {
    makeBareRepo(REMOTES, names[0]!, {
      "README.md": "# bench service\n\nA small service used by Cody Batch's benchmarks.\n",
      "package.json": `${JSON.stringify({ name: "bench-service", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
      "src/app.js": 'export const name = "bench";\nexport const version = 1;\n\nexport function hello() {\n  return `${name} v${version}`;\n}\n',
    });
  }
  mkdirSync(join(REMOTES, "bench"), { recursive: true });
  for (const name of names.slice(1)) {
    const bare = join(REMOTES, `${name}.git`);
    if (!existsSync(join(bare, "HEAD"))) cpSync(first, bare, { recursive: true });
  }
  return { names, gitBaseUrl: GIT_BASE_URL };
}
