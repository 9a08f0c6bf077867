#!/usr/bin/env node
/**
 * `make build`: bundles the two programs that leave this machine with esbuild.
 *   bot/lambda.ts  → dist/bot.js     (ESM, exports `handler`; what only some requests load in dist/chunks/bot-*),
 *                    packaged for Lambda as dist/lambda/bot.mjs (+ chunks/, package.json)
 *   runner/main.ts → dist/runner.js  (ESM, the container entry: `node runner.js`; the local launcher's workers too)
 *   scripts/cody.ts → dist/cody.js   (ESM, the CLI; each command's modules in dist/chunks/, loaded on use)
 * Target node20 (runs on Lambda's and the image's Node 22 too). A missing entry is skipped with a
 * warning (exit 0) so the other still builds; `make deploy` refuses to ship without both.
 * Prints each output's size.
 */
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// `--outdir DIR` builds somewhere else than dist/ (tests build into a temporary directory).
const outdirArg = process.argv.indexOf("--outdir");
const dist = outdirArg > 0 ? resolve(process.argv[outdirArg + 1]) : join(root, "dist");

const entries = [
  // Code the Lambda never runs is replaced by stubs that throw if constructed, so it stays out of
  // every cold start: Socket Mode (bot/server.ts uses it, locally), Bolt's OAuth installer (we use
  // one bot token) and Express receiver (the Lambda uses AwsLambdaReceiver), and what only Express'
  // body parsing and static files need (iconv-lite, mime-db). test/bundle.test.ts runs the bundle.
  // Code splitting (as for the CLI): what the bot loads with `await import()` on first use (S3,
  // Lambda, Batch, Octokit, campaign tasks, spec parsing) sits in chunks Node neither reads nor
  // parses at a cold start. ESM builds first, for the reason given at the CLI's entry.
  { name: "bot", entry: "bot/lambda.ts", out: "dist/bot.js", split: true, mainFields: ["module", "main"], lambdaDir: "dist/lambda", stubs: ["@slack/socket-mode", "@slack/oauth", "express", "iconv-lite", "mime-db"] },
  { name: "runner", entry: "runner/main.ts", out: "dist/runner.js" },
  // Code splitting: `cody --help` loads dist/cody.js alone, `cody list` the store's chunks, and
  // only the stack daemon loads dynalite and s3rver (left outside the bundle: LevelDB's native
  // prebuilds and s3rver's files are found in node_modules at run time).
  // ESM builds first ("module"): a split chunk of a CommonJS package exports only `default`, so
  // `await import("@aws-sdk/client-s3")` would have no named exports.
  { name: "cody", entry: "scripts/cody.ts", out: "dist/cody.js", split: true, external: ["dynalite", "s3rver"], mainFields: ["module", "main"] },
];

// CommonJS dependencies (Bolt, pino, …) call require() and use __dirname inside an ESM bundle.
const banner = [
  'import { createRequire as __codyCreateRequire } from "node:module";',
  'import { fileURLToPath as __codyFileURLToPath } from "node:url";',
  'import { dirname as __codyDirname } from "node:path";',
  "const require = __codyCreateRequire(import.meta.url);",
  "const __filename = __codyFileURLToPath(import.meta.url);",
  "const __dirname = __codyDirname(__filename);",
].join("\n");

/** Resolves each named package to a module whose classes throw when constructed (code the bundle never runs). */
const stubPlugin = (names) => ({
  name: "stub-unused",
  setup(b) {
    const filter = new RegExp(`^(${names.map((n) => n.replace(/[/.@-]/g, "\\$&")).join("|")})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: "stub" }));
    b.onLoad({ filter: /.*/, namespace: "stub" }, (args) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not bundled here`)}); };\nmodule.exports = new Proxy({}, { get: (_t, k) => (k === "__esModule" ? false : class { constructor() { fail(); } }) });\n`,
      loader: "js",
    }));
  },
});

/** Deletes `<name>-*` chunks (and maps) the new build no longer names. */
function removeStaleChunks(dir, name, metafile) {
  const keep = new Set(Object.keys(metafile.outputs).map((p) => resolve(p)));
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    const path = join(dir, f);
    if (f.startsWith(`${name}-`) && !keep.has(path)) rmSync(path, { force: true });
  }
}

const kib = (file) => `${(statSync(file).size / 1024).toFixed(1)} KiB`;

/**
 * Builds the named entries (default: all) into `dist` (default: dist/). Returns how many it built.
 * scripts/cody.mjs calls it with ["cody", "runner"] when a source is newer than the bundle.
 */
export async function buildEntries(names = entries.map((e) => e.name), outdir = dist, write = (s) => process.stdout.write(s)) {
  const outAt = (p) => join(outdir, relative("dist", p));
  const startedAll = new Date();
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, "package.json"), JSON.stringify({ type: "module" }) + "\n");
  let built = 0;
  for (const e of entries.filter((x) => names.includes(x.name))) {
    const entry = join(root, e.entry);
    if (!existsSync(entry)) {
      process.stderr.write(`build: ${e.entry} does not exist yet; skipping ${e.out}\n`);
      continue;
    }
    const outfile = outAt(e.out);
    const started = performance.now();
    const result = await build({
      ...(e.split
        ? { entryPoints: { [e.name]: entry }, outdir: dirname(outfile), splitting: true, chunkNames: `chunks/${e.name}-[hash]`, external: e.external, mainFields: e.mainFields }
        : { entryPoints: [entry], outfile }),
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      sourcemap: "linked",
      // Full minification: Node compiles the whole ESM bundle at import, so fewer bytes start faster.
      minify: true,
      keepNames: false,
      ...(e.stubs ? { plugins: [stubPlugin(e.stubs)] } : {}),
      legalComments: "none",
      banner: { js: banner },
      metafile: true,
      logLevel: "warning",
    });
    const ms = Math.round(performance.now() - started);
    if (e.split) removeStaleChunks(join(dirname(outfile), "chunks"), e.name, result.metafile);
    const inputs = Object.keys(result.metafile.inputs).length;
    write(`build: ${relative(root, outfile)}  ${kib(outfile)}  (${inputs} inputs, ${ms} ms)\n`);
    if (e.lambdaDir) {
      // Lambda loads `.mjs` as ESM without a package.json: handler "bot.handler".
      const dir = outAt(e.lambdaDir);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      copyFileSync(outfile, join(dir, "bot.mjs"));
      // The bundle's sourceMappingURL names bot.js.map; keep that name next to it.
      copyFileSync(`${outfile}.map`, join(dir, "bot.js.map"));
      // Its chunks, under the same relative names, as ES modules (`.js` without a package.json is CommonJS).
      if (e.split) {
        rmSync(join(dir, "chunks"), { recursive: true, force: true }); // no chunk of an older build ships
        mkdirSync(join(dir, "chunks"), { recursive: true });
        for (const out of Object.keys(result.metafile.outputs).map((p) => resolve(p))) {
          if (dirname(out) === join(dirname(outfile), "chunks")) copyFileSync(out, join(dir, "chunks", relative(dirname(out), out)));
        }
        writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }) + "\n");
      }
      write(`build: ${relative(root, join(dir, "bot.mjs"))}  ${kib(join(dir, "bot.mjs"))}  (Lambda package)\n`);
    }
    built++;
  }
  // scripts/cody.mjs rebuilds when a source is newer than this stamp (dated when the build began).
  if (names.includes("cody") && names.includes("runner") && built === entries.filter((x) => names.includes(x.name)).length) {
    const stamp = join(outdir, ".cli-stamp");
    writeFileSync(stamp, `${startedAll.toISOString()}\n`);
    utimesSync(stamp, startedAll, startedAll);
  }
  return built;
}

async function main() {
  const built = await buildEntries();
  if (built === 0) {
    process.stderr.write("build: nothing to build\n");
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = await main();
