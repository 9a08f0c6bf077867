/**
 * The Lambda bundle as it ships: `make build` output, with its stubs for code the Lambda never
 * runs, still answers Slack (health, a command, the modal through the Slack fake).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");

describe("the bot bundle", () => {
  it("builds, and the bundled handler answers /health, /cody help and opens the modal", () => {
    execFileSync(process.execPath, [resolve(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "pipe" });
    const bundle = resolve(ROOT, "dist/bot.js");
    expect(statSync(bundle).size).toBeGreaterThan(100_000);
    const r = spawnSync(process.execPath, ["--import", "tsx", resolve(ROOT, "test/support/bundle-smoke.ts"), bundle], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, LOG_LEVEL: "silent", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { health: number; help: number; helpText: string; modal: number; slackCalls: string[] };
    expect(out.health).toBe(200);
    expect(out.help).toBe(200);
    expect(out.helpText).toContain("Cody Batch");
    expect(out.modal).toBe(200);
    expect(out.slackCalls).toContain("views.open");
  });
});
