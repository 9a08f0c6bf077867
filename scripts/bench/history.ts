/**
 * Full-history repositories for the real-repositories benchmark: each a bare remote of 5,000
 * commits over 2,000 files (a package.json among them, which the benchmark's script edits),
 * generated in a few seconds with one `git fast-import` stream and reused by later runs
 * (`<BENCH_DIR>/history-remotes/history/repo-N.git`).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR } from "./fixtures.ts";

/** Sizes of a generated repository. */
export const HISTORY = { commits: 5000, files: 2000 } as const;

/** The remotes' root and the names of `count` full-history repositories (made once). */
export function ensureHistoryRemotes(count: number): { remotes: string; repos: string[] } {
  const remotes = join(BENCH_DIR, "history-remotes");
  const repos = Array.from({ length: count }, (_, i) => `history/repo-${i}`);
  const first = join(remotes, `${repos[0]}.git`);
  if (!existsSync(join(first, "HEAD"))) {
    rmSync(first, { recursive: true, force: true });
    mkdirSync(first, { recursive: true });
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", first]);
    execFileSync("git", ["fast-import", "--quiet"], { cwd: first, input: fastImportStream(HISTORY.commits, HISTORY.files), maxBuffer: 256 * 1024 ** 2 });
    execFileSync("git", ["config", "uploadpack.allowFilter", "true"], { cwd: first });
  }
  for (const name of repos.slice(1)) {
    const bare = join(remotes, `${name}.git`);
    if (!existsSync(join(bare, "HEAD"))) cpSync(first, bare, { recursive: true });
  }
  return { remotes, repos };
}

/** A fast-import stream: one commit adding `files` files, then `commits - 1` commits each changing one of them. */
export function fastImportStream(commits: number, files: number): Buffer {
  const parts: string[] = [];
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const path = (i: number) => `src/mod-${String(i % 40).padStart(2, "0")}/file-${String(i).padStart(4, "0")}.js`;
  const body = (i: number, rev: number) => `// generated module ${i}\nexport const id = ${i};\nexport const revision = ${rev};\n\nexport function value() {\n  return id * 31 + revision;\n}\n`;
  let time = 1_600_000_000;
  const commit = (msg: string, changes: string) => {
    time += 600;
    parts.push(`commit refs/heads/main\ncommitter Bench <bench@example.com> ${time} +0000\n${data(msg)}${changes}\n`);
  };
  const pkg = `${JSON.stringify({ name: "history-service", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`;
  let first = `M 100644 inline package.json\n${data(pkg)}M 100644 inline README.md\n${data("# history service\n\nA generated repository with a long history.\n")}`;
  for (let i = 0; i < files; i++) first += `M 100644 inline ${path(i)}\n${data(body(i, 0))}`;
  commit("Initial import", first);
  for (let c = 1; c < commits; c++) {
    const i = (c * 7919) % files;
    commit(`Change module ${i} (revision ${c})`, `M 100644 inline ${path(i)}\n${data(body(i, c))}`);
  }
  return Buffer.from(parts.join(""));
}
