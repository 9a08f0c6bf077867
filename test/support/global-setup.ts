/**
 * Runs once before the test files: brings the bundled CLI and runner (dist/, scripts/cody.mjs)
 * up to date, so no test pays for — or races on — the rebuild the first `cody` start would do.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const cody = fileURLToPath(new URL("../../scripts/cody.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [cody, "--help"], { encoding: "utf8", env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", CODY_ENSURE_BUNDLE: "1" } });
  if (r.status !== 0) throw new Error(`building the bundled CLI failed (exit ${r.status}): ${r.stderr}`);
}
