#!/usr/bin/env node
/**
 * `npm run arch-check`: the layout rules of ARCHITECTURE.md, checked from the sources' own imports
 * (a regex over import/export specifiers, static, type-only and `import()` alike; no dependencies).
 * Fails (exit 1) on:
 *   - an import loop between files (any kind of import counts: a type or a lazy `import()` ties files too);
 *   - an arrow from core/ into bot/, scripts/, runner/ or environment/ (core is below them all);
 *   - an arrow into environment/ from core/ or runner/;
 *   - a source file over 400 lines without a comment near its top saying why it stays whole
 *     ("reads better whole" / "stays whole");
 *   - a bare relative import (`import "./x.ts"`): package.json says "sideEffects": false, so a
 *     bundle may drop a module imported only for its effects;
 *   - reaching past a folder's index.ts: a static import of a file inside a folder that has an
 *     index.ts, from outside that folder. A lazy `import()` may name the one file it loads (so a
 *     bundle's chunk holds only that file).
 * Tests (*.test.ts, test/) are exempt from the arrow and index rules (they may reach what they
 * test), not from the loop rule.
 * Prints one line per problem and a summary; `--graph` prints the file graph instead.
 */
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// `--root DIR` checks another tree (test/arch-check.test.ts checks fixtures).
const rootArg = process.argv.indexOf("--root");
const root = rootArg > 0 ? resolve(process.argv[rootArg + 1]) : resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOMS = ["core", "bot", "runner", "scripts", "environment", "terraform", "test"];
const LIMIT = 400;
const WHOLE = /reads better whole|stays whole/i;

/** Every .ts/.mjs source under the rooms (not node_modules, not synthesized output). */
function sources() {
  const out = [];
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      if (f === "node_modules" || f === "cdktf.out" || f.startsWith(".")) continue;
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mjs)$/.test(f) && !f.endsWith(".d.ts")) out.push(relative(root, p));
    }
  };
  for (const r of ROOMS) if (existsSync(join(root, r))) walk(join(root, r));
  return out.sort();
}

const SPEC = /\bfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)|\bimport\s+["']([^"']+)["']/g;

/** The relative imports of one file: { to, lazy } with `to` relative to the repository root. */
function importsOf(file, text) {
  const out = [];
  // Comments may quote import lines; drop block and line comments first (not inside strings: good enough here).
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  for (const m of code.matchAll(SPEC)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith(".")) continue;
    const to = relative(root, resolve(root, dirname(file), spec));
    out.push({ to, lazy: m[2] !== undefined, bare: m[3] !== undefined });
  }
  return out;
}

const files = sources();
const texts = new Map(files.map((f) => [f, readFileSync(join(root, f), "utf8")]));
const graph = new Map(files.map((f) => [f, importsOf(f, texts.get(f))]));
const known = new Set(files);

if (process.argv.includes("--graph")) {
  for (const [f, edges] of graph) console.log(`${f} -> ${edges.map((e) => e.to + (e.lazy ? " (lazy)" : "")).join(" ")}`);
  process.exit(0);
}

const problems = [];
const room = (f) => f.split("/")[0];
const isTest = (f) => f.endsWith(".test.ts") || f.startsWith("test/");
const indexFolders = new Set(files.filter((f) => f.endsWith("/index.ts")).map((f) => dirname(f)));
/** The innermost folder with an index.ts that holds `f` (or undefined). */
const folderOf = (f) => {
  for (let d = dirname(f); d !== "."; d = dirname(d)) if (indexFolders.has(d)) return d;
  return undefined;
};

for (const [f, edges] of graph) {
  for (const { to, lazy, bare } of edges) {
    if (bare && known.has(to)) problems.push(`bare import: ${f} imports ${to} only for its side effects (package.json says there are none)`);
    if (!known.has(to)) continue; // a package, generated output, or text that only looks like an import (tsc checks those)
    if (isTest(f)) continue; // a test may reach anything it tests (and a generator script beside it)
    if (room(f) === "core" && ["bot", "scripts", "runner", "environment"].includes(room(to))) problems.push(`arrow up: ${f} imports ${to} (core imports nothing above it)`);
    if (room(to) === "environment" && ["core", "runner"].includes(room(f))) problems.push(`arrow up: ${f} imports ${to} (environment wires core and runner together)`);
    const tf = folderOf(to);
    if (tf && !lazy && !to.endsWith("/index.ts") && !(f === tf || f.startsWith(tf + "/"))) {
      problems.push(`past the index: ${f} imports ${to}; import ${tf}/index.ts (or load it lazily with import())`);
    }
  }
}

// Loops: strongly connected components of the file graph (Tarjan, iterative enough for our depth).
{
  let n = 0;
  const idx = new Map(), low = new Map(), on = new Set(), stack = [];
  const strong = (v) => {
    idx.set(v, n); low.set(v, n); n++; stack.push(v); on.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!known.has(to)) continue;
      if (!idx.has(to)) { strong(to); low.set(v, Math.min(low.get(v), low.get(to))); }
      else if (on.has(to)) low.set(v, Math.min(low.get(v), idx.get(to)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).some((e) => e.to === v)) problems.push(`loop: ${comp.sort().join(" ↔ ")}`);
    }
  };
  for (const f of files) if (!idx.has(f)) strong(f);
}

for (const f of files) {
  const text = texts.get(f);
  const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  if (lines > LIMIT && !isTest(f) && !WHOLE.test(text.split("\n").slice(0, 30).join("\n"))) {
    problems.push(`too long: ${f} has ${lines} lines (limit ${LIMIT}); split it, or say at its top why it stays whole`);
  }
}

for (const p of problems) console.log(p);
console.log(`arch-check: ${files.length} files, ${[...graph.values()].reduce((s, e) => s + e.length, 0)} imports, ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
