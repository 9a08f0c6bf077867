/**
 * Texts that leave the runner with a change — the commit message and what goes into the pull
 * request description — made inert (no issue references that link or close, no mentions that
 * ping, no HTML, no forged Cody Batch marker), and the check that none of them, nor the change
 * itself, carries a secret. Pure.
 */
import type { Job } from "../core/jobs/index.ts";
import { redact } from "../core/runtime/index.ts";
import { truncate } from "./repo-caps.ts";

/** Invisible, and enough for GitHub not to see `#1`, `@team` or `Fixes` as references. */
const ZWSP = "\u200b";

/**
 * `text` for a plain-text place GitHub scans (a commit message, a title): `#12`, `GH-12` and
 * `owner/repo#12` no longer reference issues, `@user` and `@org/team` no longer mention anyone,
 * and a closing keyword followed by an issue URL no longer closes it.
 */
export function inertText(text: string): string {
  return text
    .replace(/#(?=\d)/g, `#${ZWSP}`)
    .replace(/\bGH-(?=\d)/gi, (m) => `${m.slice(0, 2)}${ZWSP}-`)
    .replace(/@(?=[A-Za-z0-9_-])/g, `@${ZWSP}`)
    .replace(/\b(close[sd]?|fix(?:e[sd])?|resolve[sd]?)(?=:?\s+https?:\/\/)/gi, (w) => `${w[0]}${ZWSP}${w.slice(1)}`);
}

/**
 * `text` for a Markdown place (the pull request description): {@link inertText}, HTML comments
 * removed (so no forged `<!-- cody-batch:job=… -->` marker survives) and every other `<`/`>`
 * escaped, so no HTML renders.
 */
export function inertMarkdown(text: string): string {
  return inertText(withoutComments(text))
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** `text` without HTML comments (an unclosed one runs to the end). */
function withoutComments(text: string): string {
  return text.replace(/<!--[\s\S]*?(?:-->|$)/g, "");
}

/**
 * The job's commit message: its name's first line as the title, Claude's summary (made inert,
 * HTML comments removed)
 * or the script, and the job id. Documented in README ("one commit per repository").
 */
export function commitMessage(job: Pick<Job, "jobId" | "name" | "type" | "script">, summary: string | undefined): string {
  const title = inertText(truncate(job.name.split("\n")[0] ?? "Batch change", 72));
  const body = summary?.trim() ? `\n\n${inertText(withoutComments(summary).trim())}` : job.type === "script" ? `\n\nScript:\n${truncate(job.script ?? "", 2000)}` : "";
  return `${title}${body}\n\nCody Batch job ${job.jobId}`;
}

/** True when redaction (known secret values and token shapes, core/runtime/log.ts) would change `text`. */
export function holdsSecret(text: string, secrets: readonly string[]): boolean {
  return redact(text, secrets) !== text;
}

/**
 * Why a change cannot be published because it carries a secret (the stored diff would be
 * redacted while the pushed commit kept the raw value), or undefined. `parts` name where each
 * text goes, in the reason people read; no part's content is quoted.
 */
export function secretReason(parts: { where: string; text: string }[], secrets: readonly string[]): string | undefined {
  const hit = parts.find((p) => holdsSecret(p.text, secrets));
  return hit ? `${hit.where} holds a secret or token-shaped value; nothing was pushed (remove it, or make it not look like a credential)` : undefined;
}
