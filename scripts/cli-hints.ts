/**
 * What the CLI says to point people on: the line for a mistyped option (with "did you mean", in
 * place of Node's parser advice) and what `make run` says last. Loaded by scripts/cody.ts on use.
 */
import type { RepoRow } from "../core/jobs/index.ts";
import { didYouMean } from "../core/runtime/index.ts";

/** One line for a `parseArgs` error of a command whose usage is `usage`: the option named, a near one of the command's own suggested. */
export function parseErrorLine(message: string, usage: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
  if (!unknown) return message.split(". To specify")[0]!;
  const known = [...new Set(usage.match(/--[a-z][a-z-]*/g) ?? [])];
  return `unknown option ${unknown}${didYouMean(unknown.replace(/=.*/, ""), known, (w) => w)}`;
}

/** What `make run` says last: three things to try next. */
export function nextSteps(jobId: string, rows: readonly RepoRow[]): string {
  const one = rows.find((r) => r.status === "FAILED") ?? rows.find((r) => r.diffKey) ?? rows[0];
  return [
    "",
    "Next:",
    `  1. one repository in full (reason, diff, logs): ./cody status ${jobId}${one ? ` ${one.repositoryName}` : ""}`,
    '  2. your own repositories: make run REPOS="owner/name" SCRIPT="…" (GITHUB_TOKEN=… PR=1 opens pull requests)',
    "  3. the Slack side and the campaign, no workspace needed: make playground",
    "",
  ].join("\n");
}
