/**
 * The Lambda bundle as it ships: `make build` output, with its stubs for code the Lambda never
 * runs, still answers Slack (health, a command, the modal through the Slack fake).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const OUT = mkdtempSync(join(tmpdir(), "cody-bundle-"));
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe("the bot bundle", () => {
  it("builds, and the bundled handler answers /health, /cody help and opens the modal", () => {
    execFileSync(process.execPath, [resolve(ROOT, "scripts/build.mjs"), "--outdir", OUT], { cwd: ROOT, stdio: "pipe" });
    const bundle = join(OUT, "bot.js");
    expect(statSync(join(OUT, "lambda", "bot.mjs")).size).toBe(statSync(bundle).size);
    expect(statSync(bundle).size).toBeGreaterThan(100_000);
    // The Lambda package as it ships: bot.mjs with its chunks (loaded on first use) beside it.
    const r = spawnSync(process.execPath, ["--import", "tsx", resolve(ROOT, "test/support/bundle-smoke.ts"), join(OUT, "lambda", "bot.mjs")], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 45_000,
      env: { ...process.env, LOG_LEVEL: "silent", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { health: number; help: number; helpText: string; modal: number; slackCalls: string[] };
    expect(out.health).toBe(200);
    expect(out.help).toBe(200);
    expect(out.helpText).toContain("Cody Batch");
    expect(out.modal).toBe(200);
    expect(out.slackCalls).toContain("views.open");
  });
});
