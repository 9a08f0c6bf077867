/**
 * `npm run arch-check` (scripts/arch-check.mjs): passes on this repository, and fails on each rule
 * it exists for when given a small tree that breaks it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SCRIPT = join(ROOT, "scripts", "arch-check.mjs");

function check(root?: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...(root ? ["--root", root] : [])], { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A tree of files (path → text) in a fresh temporary directory. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "arch-check-"));
  dirs.push(dir);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

describe("arch-check", () => {
  it("passes on this repository", () => {
    const r = check();
    expect(r.out).toMatch(/0 problem\(s\)/);
    expect(r.status).toBe(0);
  });

  it("passes on a tree that keeps every rule", () => {
    const r = check(tree({
      "core/jobs/index.ts": 'export * from "./job.ts";\n',
      "core/jobs/job.ts": "export const a = 1;\n",
      "bot/app.ts": 'import { a } from "../core/jobs/index.ts";\nexport const b = a;\n',
      "bot/lazy.ts": 'export const c = () => import("../core/jobs/job.ts");\n',
    }));
    expect(r.out).toMatch(/0 problem\(s\)/);
    expect(r.status).toBe(0);
  });

  it("fails on an import loop, even through types", () => {
    const r = check(tree({
      "bot/a.ts": 'import type { B } from "./b.ts";\nexport type A = B;\n',
      "bot/b.ts": 'import { a } from "./c.ts";\nexport type B = string;\nexport const x = a;\n',
      "bot/c.ts": 'import type { A } from "./a.ts";\nexport const a: A = "";\n',
    }));
    expect(r.out).toContain("loop: bot/a.ts ↔ bot/b.ts ↔ bot/c.ts");
    expect(r.status).toBe(1);
  });

  it("fails on an arrow from core into bot or scripts", () => {
    const r = check(tree({
      "core/x.ts": 'import { y } from "../bot/y.ts";\nimport { z } from "../scripts/z.ts";\nexport const x = y + z;\n',
      "bot/y.ts": "export const y = 1;\n",
      "scripts/z.ts": "export const z = 1;\n",
    }));
    expect(r.out).toContain("arrow up: core/x.ts imports bot/y.ts");
    expect(r.out).toContain("arrow up: core/x.ts imports scripts/z.ts");
    expect(r.status).toBe(1);
  });

  it("fails on a static import past a folder's index.ts", () => {
    const r = check(tree({
      "core/jobs/index.ts": 'export * from "./job.ts";\n',
      "core/jobs/job.ts": "export const a = 1;\n",
      "runner/r.ts": 'import { a } from "../core/jobs/job.ts";\nexport const r = a;\n',
    }));
    expect(r.out).toContain("past the index: runner/r.ts imports core/jobs/job.ts");
    expect(r.status).toBe(1);
  });

  it("fails on a file over 400 lines unless its top comment says why it stays whole", () => {
    const body = "export const a = 1;\n".repeat(401);
    const r = check(tree({
      "runner/long.ts": body,
      "runner/whole.ts": "/** An orchestrator that reads better whole. */\n" + body,
    }));
    expect(r.out).toContain("too long: runner/long.ts has 401 lines");
    expect(r.out).not.toContain("runner/whole.ts");
    expect(r.status).toBe(1);
  });

  it("fails on a bare relative import (package.json says there are no side effects)", () => {
    const r = check(tree({ "bot/a.ts": 'import "./b.ts";\n', "bot/b.ts": "console.log(1);\n" }));
    expect(r.out).toContain("bare import: bot/a.ts imports bot/b.ts");
    expect(r.status).toBe(1);
  });
});
