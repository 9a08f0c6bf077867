/**
 * Secrets Manager secrets, created empty: the operator sets each value with
 * `aws secretsmanager put-secret-value` (OPERATIONS.md), so no value ever passes through code
 * or Terraform state. Which GitHub secret exists depends on GITHUB_AUTH (token or app).
 */
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret/index.js";
import { Construct } from "constructs";
import { resourceName, type StackSettings } from "./settings.ts";

/**
 * The environment variable each secret feeds, and who reads it. `optional` secrets (core/secrets/secrets.ts
 * OPTIONAL_SECRETS) are read by the process itself through `<variable>_SECRET_ARN`, so an empty one
 * never stops a task from starting; the others are injected by the job definition.
 */
export type SecretUse = { variable: string; secret: SecretsmanagerSecret; bot: boolean; runner: boolean; optional: boolean };

export class Secrets extends Construct {
  readonly all: SecretUse[];

  constructor(scope: Construct, id: string, s: StackSettings) {
    super(scope, id);
    const secret = (name: string, description: string) =>
      new SecretsmanagerSecret(this, name, {
        name: resourceName(s, name),
        description,
        // dev: delete at once on destroy so the name can be reused; prod: keep a week to undo mistakes.
        recoveryWindowInDays: s.env === "prod" ? 7 : 0,
      });
    const required = { optional: false };
    this.all = [
      { variable: "SLACK_BOT_TOKEN", secret: secret("slack-bot-token", "Slack bot token (the one that starts with xoxb)"), bot: true, runner: true, ...required },
      { variable: "SLACK_SIGNING_SECRET", secret: secret("slack-signing-secret", "Slack app signing secret"), bot: true, runner: false, ...required },
      s.githubAuth === "app"
        ? { variable: "GITHUB_APP_PRIVATE_KEY", secret: secret("github-app-private-key", "GitHub App private key (PEM)"), bot: true, runner: true, ...required }
        : { variable: "GITHUB_TOKEN", secret: secret("github-token", "GitHub token with contents and pull-request write access"), bot: true, runner: true, ...required },
      // Only Claude jobs need it: an empty key fails their repositories, never a script job's start.
      { variable: "ANTHROPIC_API_KEY", secret: secret("anthropic-api-key", "Anthropic API key"), bot: false, runner: true, optional: true },
      // Signs the stable `${BOT_PUBLIC_URL}/links/…` URLs; make deploy fills it with random bytes once.
      { variable: "LINK_SIGNING_SECRET", secret: secret("link-signing-secret", "Key signing Cody Batch's artifact links (random; set by make deploy)"), bot: true, runner: true, optional: true },
    ];
  }

  for(who: "bot" | "runner"): SecretUse[] {
    return this.all.filter((u) => u[who]);
  }
}
