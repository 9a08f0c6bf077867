/**
 * Targets in the Slack modal: the Repositories field's selectors (or a pasted change spec's
 * `on:`), resolved for the "Preview targets" button and again when the job is created. Slack's
 * rules shape it: the button is acknowledged at once and the resolution (code search is paced at
 * one request every 6 s) runs as a deferred task that rebuilds the form with `views.update`
 * (guarded by the view's hash); the preview's digest rides in `private_metadata`, so the
 * submission — which must answer within 3 s — can refuse, inline, targets that were never
 * previewed or whose preview found a problem.
 */
import { createHash } from "node:crypto";
import { LIMITS } from "../core/jobs/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import type { AllowPattern } from "../core/config/index.ts";
import { resolveSelectors, type Resolution, type TargetSource } from "../core/github/index.ts";
import type { ExpandOwner, Submission } from "./submission.ts";
import { FIELDS, jobModal, type ModalMetadata, type ModalValues, type PreviewLines } from "./messages/modal.ts";

/** A short digest of the target lines, order and case kept: "what was previewed". */
export function targetsDigest(lines: readonly string[]): string {
  return createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16);
}

/** Searches the bot can run: core/github/github-search.ts in production; `owner/*` falls back to `expandOwner`. */
export type TargetDeps = { targets?: TargetSource; expandOwner: ExpandOwner; settings: { allowlist: readonly AllowPattern[] } };

/** Resolves a submission's target lines (owner/*, search:, repos:, topic:, names) within the allowlist. */
export function resolveSubmissionTargets(deps: TargetDeps, lines: readonly string[], signal?: AbortSignal): Promise<Resolution> {
  const unavailable = async (): Promise<never> => {
    throw new Error("GitHub search is not configured for the bot");
  };
  const source: TargetSource = {
    listOwner: deps.targets?.listOwner ?? (async (owner, s) => (await deps.expandOwner(owner, s)).map((fullName) => ({ fullName }))),
    searchCode: deps.targets?.searchCode ?? unavailable,
    searchRepositories: deps.targets?.searchRepositories ?? unavailable,
  };
  return resolveSelectors({ source }, { selectors: lines, allowlist: deps.settings.allowlist, limit: LIMITS.maxRepositories }, signal);
}

/** The block where target problems are shown: the spec field when the targets came from a spec. */
export function targetsBlock(sub: Pick<Submission, "fromSpec">): string {
  return sub.fromSpec ? FIELDS.spec : FIELDS.repositories;
}

/**
 * The submission-time rule (no I/O, within Slack's 3 s): search:, repos: and topic: lines need a
 * current preview; a current preview that found a problem is that field's error. Returns the
 * error for the targets block, or undefined.
 */
export function previewProblem(sub: Submission, meta: ModalMetadata): string | undefined {
  const current = meta.preview && meta.preview.digest === targetsDigest(sub.lines) ? meta.preview : undefined;
  if (current?.error) return current.error;
  if (sub.selectors.length > 0 && !current) {
    return meta.preview
      ? "The repositories changed since the preview: press Preview targets again before Start job."
      : "Press Preview targets first: search:, repos: and topic: selectors are resolved before the job starts.";
  }
  return undefined;
}

/** The deferred half of "Preview targets". */
export type PreviewTask = { kind: "preview_targets"; viewId: string; hash?: string; meta: ModalMetadata; values: ModalValues; submission: Submission };

export type PreviewDeps = TargetDeps & {
  /** `views.update` with the view's hash; resolves false when the view moved on (hash_conflict, closed). */
  updateView: (viewId: string, hash: string | undefined, view: unknown, signal?: AbortSignal) => Promise<boolean>;
  log: Logger;
};

/**
 * Resolves the form's targets and rebuilds the form with the preview (the person's values kept,
 * the digest in `private_metadata`). A spec error or a selector error is shown in the preview.
 * Never throws: an outage shows "could not look the repositories up" and is logged.
 */
export async function previewTargets(deps: PreviewDeps, task: PreviewTask, signal?: AbortSignal): Promise<void> {
  const sub = task.submission;
  let preview: PreviewLines;
  if (sub.specError) {
    preview = { total: 0, selectors: [], error: sub.specError };
  } else if (sub.lines.length === 0) {
    preview = { total: 0, selectors: [], error: "Name at least one repository or selector." };
  } else {
    try {
      const r = await resolveSubmissionTargets(deps, sub.lines, signal);
      preview = r.kind === "ok"
        ? { total: r.repositories.length, selectors: r.selectors }
        : { total: 0, selectors: r.selectors, error: r.errors.join("; ") };
    } catch (err) {
      deps.log.warn({ err }, "resolving targets for a preview failed");
      preview = { total: 0, selectors: [], error: "Could not look the repositories up (GitHub did not answer); try again in a minute." };
    }
  }
  const meta: ModalMetadata = { channel: task.meta.channel, teamId: task.meta.teamId, preview: { digest: targetsDigest(sub.lines), count: preview.total, ...(preview.error ? { error: preview.error.slice(0, 1500) } : {}) } };
  const ok = await deps.updateView(task.viewId, task.hash, jobModal(meta, deps.settings.allowlist, { values: task.values, preview }), signal).catch((err: unknown) => {
    deps.log.warn({ err }, "updating the modal with the preview failed");
    return false;
  });
  if (!ok) deps.log.info({ viewId: task.viewId }, "the modal moved on before its preview arrived");
}
