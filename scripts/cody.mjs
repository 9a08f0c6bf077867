#!/usr/bin/env node
// The `cody` command: runs the bundled CLI (dist/cody.js, built by scripts/build.mjs), rebuilding
// it and the runner (dist/runner.js) first when a source file is newer than dist/.cli-stamp.
// CODY_NO_BUNDLE=1 runs the TypeScript sources through tsx instead (slower; for debugging).
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// `cody --help` answers at once: no freshness check, no build, no bundle (the usage is plain JS).
// CODY_ENSURE_BUNDLE=1 (tests' and benchmarks' setup) rebuilds first all the same.
const argv = process.argv.slice(2);
if (argv.length === 1 && ["--help", "-h", "help"].includes(argv[0]) && process.env.CODY_ENSURE_BUNDLE !== "1") {
  const { USAGE } = await import("./cli-usage.mjs");
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const stamp = join(root, "dist", ".cli-stamp");
const SOURCES = ["core", "runner", "bot", "scripts", "environment", "package-lock.json"];

/** The newest modification time (ms) of a file or of any file under a directory (stats only). */
function newest(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    max = Math.max(max, newest(join(path, e.name)));
  }
  return max;
}

const isFresh = () => {
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  return built > 0 && SOURCES.every((s) => newest(join(root, s)) <= built);
};

/** Rebuilds under an O_EXCL lock so concurrent `cody` starts build once and the others wait. */
async function ensureBundle() {
  if (isFresh()) return;
  const lock = join(root, "dist", ".build.lock");
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      closeSync(openSync(lock, "wx"));
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      // A build takes seconds; a lock older than two minutes belongs to a builder that died.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000) rmSync(lock, { force: true });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (isFresh()) return;
    const started = Date.now();
    const { buildEntries } = await import("./build.mjs");
    await buildEntries(["cody", "runner"], undefined, () => undefined);
    // Said to a person at a terminal only: output piped to a program (tests, scripts) stays exact.
    if (process.stderr.isTTY) process.stderr.write(`cody: rebuilt dist/cody.js and dist/runner.js (${Date.now() - started} ms)\n`);
  } finally {
    rmSync(lock, { force: true });
  }
}

let main;
if (process.env.CODY_NO_BUNDLE === "1") {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("./cody.ts"));
} else {
  await ensureBundle();
  ({ main } = await import("../dist/cody.js"));
}
process.exitCode = await main(process.argv.slice(2));
// Leave at once (as `process.exit`), but after stdout drains when it is a pipe.
process.stdout.write("", () => process.exit(process.exitCode));
