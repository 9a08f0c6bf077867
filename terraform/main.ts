/**
 * cdktf app: one stack, `cody-batch-<CODY_ENV>`, configured from the environment (OPERATIONS.md
 * "Settings"). Run by `cdktf synth` (cdktf.json) or `make synth`; writes plain Terraform JSON to
 * terraform/cdktf.out/stacks/cody-batch-<env>/cdk.tf.json.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "cdktf";
import { settingsFromEnv, SettingsError } from "./settings.ts";
import { CodyStack } from "./stack.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function main(): number {
  let settings;
  try {
    // The runner image of this commit unless told otherwise: what make deploy pushes for a clean tree.
    settings = settingsFromEnv({ ...process.env, RUNNER_IMAGE_TAG: process.env.RUNNER_IMAGE_TAG || headSha() });
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`synth: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const bundleDir = resolve(root, settings.botBundleDir);
  let botBundleDir = bundleDir;
  if (!existsSync(join(bundleDir, "bot.mjs"))) {
    // Synth must work before the first build (CI, reviews): package a stub that answers 503.
    // `make deploy` always builds first and refuses to deploy the stub.
    botBundleDir = resolve(root, "dist/bot-stub");
    mkdirSync(botBundleDir, { recursive: true });
    writeFileSync(
      join(botBundleDir, "bot.mjs"),
      'export const handler = async () => ({ statusCode: 503, body: "cody-batch: bot bundle missing; run make build and deploy again" });\n',
    );
    process.stderr.write(`synth: ${join(settings.botBundleDir, "bot.mjs")} not found (run make build); the Lambda gets a stub that answers 503\n`);
  }
  const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? resolve(root, "terraform/cdktf.out") });
  const stackId = `cody-batch-${settings.env}`;
  // Local state (dev only) relative to the stack directory terraform/cdktf.out/stacks/<id>: in terraform/, kept by make clean.
  new CodyStack(app, stackId, { ...settings, botBundleDir, localStateFile: `../../../terraform.${stackId}.tfstate` });
  app.synth();
  return 0;
}

/** `git rev-parse --short=12 HEAD`, or undefined outside a git checkout. */
function headSha(): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

process.exitCode = main();
