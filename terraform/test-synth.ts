/**
 * Test helpers for the synthesized stack: synth from settings (with secret-looking values in the
 * environment that must never reach the output) and lookups into the Terraform JSON.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import { expect } from "vitest";
import { settingsFromEnv } from "./settings.ts";
import { CodyStack } from "./stack.ts";

/** Synthesized Terraform JSON. */
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
/** One IAM policy statement. */
export type Statement = { Effect: string; Action: string | string[]; Resource?: string | string[]; Principal?: unknown };

/** Values an operator might have in their shell while synthesizing: none may reach the output. */
// Values an operator might have in their shell while synthesizing: none may reach the output.
export const LEAKY_ENV = {
  SLACK_BOT_TOKEN: "xoxb-leak-1111111111",
  SLACK_SIGNING_SECRET: "signing-leak-2222222222",
  SLACK_APP_TOKEN: "xapp-leak-3333333333",
  GITHUB_TOKEN: "ghp_leak4444444444",
  GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----leak",
  ANTHROPIC_API_KEY: "sk-ant-leak-5555555555",
};

/** A stand-in bot bundle (one per test file; the OS cleans the temporary directory). */
export const bundleDir = mkdtempSync(join(tmpdir(), "cody-bot-bundle-"));
writeFileSync(join(bundleDir, "bot.mjs"), "export const handler = async () => ({ statusCode: 200 });\n");

/** The settings prod requires (alarm subscriber, remote state, subnets). */
export const PROD_ENV = { CODY_ENV: "prod", ALARM_EMAIL: "ops@example.com", TF_STATE_BUCKET: "acme-tf-state", SUBNET_IDS: "subnet-a,subnet-b" };

/** The stack of `env`'s settings (ALLOWED_REPOSITORIES=acme/* and LEAKY_ENV set), as JSON and text. */
export function synth(env: NodeJS.ProcessEnv = {}): { json: Json; text: string } {
  const settings = settingsFromEnv({ ALLOWED_REPOSITORIES: "acme/*", ...LEAKY_ENV, ...env });
  const app = Testing.app();
  const stack = new CodyStack(app, `cody-batch-${settings.env}`, { ...settings, botBundleDir: bundleDir });
  const text = Testing.synth(stack);
  return { json: JSON.parse(text) as Json, text };
}

/** Every resource of `type`. */
export const resources = (json: Json, type: string): Json[] => Object.values(json.resource?.[type] ?? {});
/** The one resource of `type` (asserts there is exactly one). */
export const one = (json: Json, type: string): Json => {
  const all = resources(json, type);
  expect(all, type).toHaveLength(1);
  return all[0]!;
};
/** The key of the first resource of `type` matching `pred`. */
export const keyOf = (json: Json, type: string, pred: (r: Json) => boolean = () => true) =>
  Object.entries(json.resource?.[type] ?? {}).find(([, r]) => pred(r as Json))![0];
/** A Terraform reference `${type.key.attr}` to that resource. */
export const ref = (json: Json, type: string, attr: string, pred?: (r: Json) => boolean) => `\${${type}.${keyOf(json, type, pred)}.${attr}}`;
/** A policy field as a list. */
export const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every statement of every IAM, bucket and topic policy. */
export function allStatements(json: Json): Statement[] {
  const docs = [
    ...resources(json, "aws_iam_role_policy").map((r) => r.policy),
    ...resources(json, "aws_iam_role").map((r) => r.assume_role_policy),
    ...resources(json, "aws_s3_bucket_policy").map((r) => r.policy),
    ...resources(json, "aws_sns_topic_policy").map((r) => r.policy),
  ];
  return docs.flatMap((d: string) => (JSON.parse(d) as { Statement: Statement[] }).Statement);
}

