/**
 * `make deploy` checks before it installs anything (issue 23): the Makefile runs
 * `scripts/deploy.sh preflight` first, which needs no node_modules and reports every problem at
 * once; `check` (after installing) still asks for the dependencies.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const fresh = mkdtempSync(join(tmpdir(), "cody-preflight-"));
mkdirSync(join(fresh, "scripts"));
cpSync("scripts/deploy.sh", join(fresh, "scripts", "deploy.sh"));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

function deploy(action: string) {
  // No AWS CLI, terraform or docker on this PATH: only the shell's own tools.
  return spawnSync("bash", [join(fresh, "scripts", "deploy.sh"), action], { env: { PATH: "/usr/bin:/bin", HOME: fresh, CODY_ENV: "prod" }, encoding: "utf8" });
}

describe("make deploy on a fresh clone", () => {
  it("runs the preflight checks before npm ci", () => {
    const recipe = readFileSync("Makefile", "utf8").split("\n");
    const at = recipe.findIndex((l) => l.startsWith("deploy:"));
    expect(recipe[at]).not.toContain("$(NODE_MODULES_STAMP)");
    expect(recipe.slice(at + 1, at + 4).map((l) => l.trim())).toEqual(["scripts/deploy.sh preflight", "@$(MAKE) --no-print-directory $(NODE_MODULES_STAMP)", "scripts/deploy.sh deploy"]);
  });

  it("preflight reports every problem at once without asking for node_modules", () => {
    const r = deploy("preflight");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("ALLOWED_REPOSITORIES is not set");
    expect(r.stderr).toContain("ALARM_EMAIL is not set");
    expect(r.stderr).toContain("TF_STATE_BUCKET is not set");
    expect(r.stderr).not.toContain("make install");
    expect(deploy("check").stderr).toContain("dependencies are missing: run 'make install'");
  });
});
