/**
 * The job modal ("New batch change") and the "View diff" modal. Block ids name the fields, so
 * `response_action: "errors"` can point at the exact input. Pure.
 */
import type { AllowPattern } from "../../core/config/index.ts";
import type { Block } from "./root.ts";
import { cut, escapeCut, escapeMrkdwn, SLACK_LIMITS } from "./text.ts";

export const JOB_MODAL_CALLBACK = "cody_job_modal";

/** Block ids of the job modal's inputs; each input's action id is `value`. */
export const FIELDS = {
  name: "name",
  type: "type",
  instructions: "instructions",
  repositories: "repositories",
  baseBranch: "base_branch",
  verify: "verify",
  options: "options",
  budget: "budget",
  quality: "quality",
  spec: "spec",
  preview: "targets_preview",
} as const;

/** The "Preview targets" button under Repositories. */
export const PREVIEW_TARGETS_ACTION = "cody_preview_targets";

/**
 * The last "Preview targets" answer: a digest of the targets it resolved (so a submission can
 * tell whether it is still current), the count, and the error when there was one.
 */
export type TargetsPreview = { digest: string; count: number; error?: string };

/** What the modal carries from `/cody` to the submission. */
export type ModalMetadata = { channel: string; teamId: string; preview?: TargetsPreview };

/** What a preview shows under the button: per selector, the count and the first names. */
export type PreviewLines = { total: number; selectors: Array<{ source: string; repositories: string[]; notes: string[] }>; error?: string };

/** Current input values to keep when the modal is rebuilt (views.update), keyed by block id. */
export type ModalValues = Partial<Record<"name" | "instructions" | "repositories" | "base_branch" | "verify" | "spec" | "budget", string>> & {
  type?: string;
  options?: string[];
  quality?: string[];
};

/** The value of the "Skip the scope judge" checkbox (issue 19). */
export const NO_JUDGE_OPTION = "no_judge";

/**
 * The job modal; `allowlist` feeds the hint under Repositories. With `state`, it is the same
 * form rebuilt after "Preview targets": the person's values kept, the resolved targets (or the
 * problem) shown under the button, and the preview's digest in `private_metadata`.
 */
export function jobModal(meta: ModalMetadata, allowlist: readonly AllowPattern[], state: { values?: ModalValues; preview?: PreviewLines } = {}): Block {
  const initial = state.values ?? {};
  const allowed = allowlist.map((p) => p.source).join(", ");
  const input = (blockId: string, label: string, element: Block, opts: { optional?: boolean; hint?: string } = {}): Block => ({
    type: "input",
    block_id: blockId,
    label: { type: "plain_text", text: label },
    element: { action_id: "value", ...element },
    ...(opts.optional ? { optional: true } : {}),
    ...(opts.hint ? { hint: { type: "plain_text", text: cut(opts.hint, 300) } } : {}),
  });
  const text = (placeholder: string, extra: Block = {}, key?: keyof ModalValues): Block => ({
    type: "plain_text_input",
    placeholder: { type: "plain_text", text: placeholder },
    ...extra,
    ...(key && typeof initial[key] === "string" && initial[key] ? { initial_value: initial[key] } : {}),
  });
  const option = (label: string, value: string) => ({ text: { type: "plain_text", text: label }, value });
  const typeOptions = [option("Claude", "code-pattern-update"), option("Shell script", "script")];
  const prOptions = [option("Open pull requests", "pr"), option("as drafts", "draft")];
  return {
    type: "modal",
    callback_id: JOB_MODAL_CALLBACK,
    title: { type: "plain_text", text: "New batch change" },
    submit: { type: "plain_text", text: "Start job" },
    close: { type: "plain_text", text: "Cancel" },
    private_metadata: JSON.stringify(meta),
    blocks: [
      input(FIELDS.name, "Name", text("Migrate fetchJson to http.get", { max_length: 120 }, "name"), { optional: true }),
      input(FIELDS.type, "Change with", {
        type: "radio_buttons",
        initial_option: typeOptions.find((o) => o.value === initial.type) ?? typeOptions[0],
        options: typeOptions,
      }),
      input(FIELDS.instructions, "Instructions or script", text("Replace every call of fetchJson(url) with await http.get(url).json() and update tests", {
        multiline: true,
        max_length: SLACK_LIMITS.inputMaxLength,
      }, "instructions"), { optional: true, hint: "Required unless you paste a change spec below. For Claude: what to change, in plain words; for a script: commands run in the repository root." }),
      input(FIELDS.repositories, "Repositories", text("acme/billing\nacme/*\nsearch: fetchJson( org:acme", { multiline: true, max_length: SLACK_LIMITS.inputMaxLength }, "repositories"), {
        optional: true,
        hint: `Required unless you paste a change spec below. ${allowed ? `Allowed: ${allowed}.` : "None allowed yet (ALLOWED_REPOSITORIES)."} One per line: owner/name, owner/*, search: <code query>, repos: <query>, topic: <name>`,
      }),
      {
        type: "actions",
        block_id: "targets_actions",
        elements: [{ type: "button", action_id: PREVIEW_TARGETS_ACTION, text: { type: "plain_text", text: "Preview targets" }, value: "preview" }],
      },
      ...(state.preview ? previewBlocks(state.preview) : []),
      input(FIELDS.baseBranch, "Base branch", text("default branch", { max_length: 200 }, "base_branch"), { optional: true, hint: "Empty: each repository's default branch." }),
      input(FIELDS.verify, "Verify with", text("npm test", { max_length: 2000 }, "verify"), { optional: true, hint: "Must pass before a PR is opened." }),
      input(FIELDS.options, "Pull requests", {
        type: "checkboxes",
        ...(initial.options ? (initial.options.length ? { initial_options: prOptions.filter((o) => initial.options!.includes(o.value)) } : {}) : { initial_options: [prOptions[0]] }),
        options: prOptions,
      }, { optional: true }),
      input(FIELDS.budget, "Budget (USD)", text("e.g. 25", { max_length: 12 }, "budget"), {
        optional: true,
        hint: "Hard cap on the job's Claude spend; once reached no further request is sent.",
      }),
      input(FIELDS.quality, "Change quality", {
        type: "checkboxes",
        ...(initial.quality?.length ? { initial_options: [option("Skip the scope judge", NO_JUDGE_OPTION)].filter((o) => initial.quality!.includes(o.value)) } : {}),
        options: [option("Skip the scope judge", NO_JUDGE_OPTION)],
      }, { optional: true, hint: "The judge reads each change before it is pushed and vetoes what the instructions did not ask for." }),
      input(FIELDS.spec, "Or paste a change spec (YAML)", text("on: [acme/billing]\nchange:\n  prompt: …", { multiline: true, max_length: SLACK_LIMITS.inputMaxLength }, "spec"), {
        optional: true,
        hint: "Replaces the fields above when given; the format of cody run -f (README, Change spec files).",
      }),
    ],
  };
}

/** The preview under the button: the total, each selector's count and first names, or the problem. */
function previewBlocks(p: PreviewLines): Block[] {
  if (p.error) {
    return [{ type: "section", block_id: FIELDS.preview, text: { type: "mrkdwn", text: cut(`:warning: ${escapeMrkdwn(p.error)}`, SLACK_LIMITS.sectionText) } }];
  }
  const lines = p.selectors.map((s) => {
    const names = s.repositories.slice(0, 10).map((r) => `\`${r}\``).join(", ");
    const more = s.repositories.length > 10 ? ` and ${s.repositories.length - 10} more` : "";
    const notes = s.notes.length ? ` _(${s.notes.join("; ")})_` : "";
    return `• \`${escapeMrkdwn(s.source)}\` → *${s.repositories.length}*${notes}: ${names}${more}`;
  });
  return [
    { type: "section", block_id: FIELDS.preview, text: { type: "mrkdwn", text: cut(`:dart: *${p.total} repositor${p.total === 1 ? "y" : "ies"}* will be changed:\n${lines.join("\n")}`, SLACK_LIMITS.sectionText) } },
    { type: "context", elements: [{ type: "mrkdwn", text: "Resolved now; the job resolves again when it starts. Change the repositories and preview again before *Start job*." }] },
  ];
}

/**
 * The "View diff" modal: the start of the diff as a code block, escaped (a diff may hold
 * `<!channel>`, `<@U…>` or `<http…|…>`, which Slack would otherwise render or ping) and cut after
 * escaping to fit one section.
 */
export function diffModal(repositoryName: string, diff: string | undefined): Block {
  const maxCode = SLACK_LIMITS.sectionText - 20;
  const code = diff ? escapeCut(diff.replace(/```/g, "ˋˋˋ"), maxCode) : "";
  const body = diff === undefined
    ? "_The diff is not available (it may have expired with the job)._"
    : diff.length === 0
      ? "_Empty diff._"
      : "```" + code + "```";
  const blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text: body } }];
  if (code.endsWith("…")) {
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `Showing the start of ${diff!.length} characters; use the diff link for all of it.` }] });
  }
  return {
    type: "modal",
    title: { type: "plain_text", text: cut(`Diff: ${repositoryName}`, 24) }, // plain_text: not parsed
    close: { type: "plain_text", text: "Close" },
    blocks,
  };
}
