/**
 * The job modal ("New batch change") and the "View diff" modal. Block ids name the fields, so
 * `response_action: "errors"` can point at the exact input. Pure.
 */
import type { AllowPattern } from "../../core/repo-spec.ts";
import type { Block } from "./root.ts";
import { cut, escapeCut, SLACK_LIMITS } from "./text.ts";

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
} as const;

/** What the modal carries from `/cody` to the submission. */
export type ModalMetadata = { channel: string; teamId: string };

/** The job modal; `allowlist` feeds the hint under Repositories. */
export function jobModal(meta: ModalMetadata, allowlist: readonly AllowPattern[]): Block {
  const allowed = allowlist.map((p) => p.source).join(", ");
  const input = (blockId: string, label: string, element: Block, opts: { optional?: boolean; hint?: string } = {}): Block => ({
    type: "input",
    block_id: blockId,
    label: { type: "plain_text", text: label },
    element: { action_id: "value", ...element },
    ...(opts.optional ? { optional: true } : {}),
    ...(opts.hint ? { hint: { type: "plain_text", text: cut(opts.hint, 150) } } : {}),
  });
  const text = (placeholder: string, extra: Block = {}): Block => ({
    type: "plain_text_input",
    placeholder: { type: "plain_text", text: placeholder },
    ...extra,
  });
  return {
    type: "modal",
    callback_id: JOB_MODAL_CALLBACK,
    title: { type: "plain_text", text: "New batch change" },
    submit: { type: "plain_text", text: "Start job" },
    close: { type: "plain_text", text: "Cancel" },
    private_metadata: JSON.stringify(meta),
    blocks: [
      input(FIELDS.name, "Name", text("Migrate fetchJson to http.get", { max_length: 120 }), { optional: true }),
      input(FIELDS.type, "Change with", {
        type: "radio_buttons",
        initial_option: { text: { type: "plain_text", text: "Claude" }, value: "code-pattern-update" },
        options: [
          { text: { type: "plain_text", text: "Claude" }, value: "code-pattern-update" },
          { text: { type: "plain_text", text: "Shell script" }, value: "script" },
        ],
      }),
      input(FIELDS.instructions, "Instructions or script", text("Replace every call of fetchJson(url) with await http.get(url).json() and update tests", {
        multiline: true,
        max_length: SLACK_LIMITS.inputMaxLength,
      }), { hint: "For Claude: what to change, in plain words. For a shell script: the commands, run in the repository root." }),
      input(FIELDS.repositories, "Repositories", text("acme/billing\nacme/*", { multiline: true, max_length: SLACK_LIMITS.inputMaxLength }), {
        hint: allowed ? `One per line: owner/name or owner/*. Allowed: ${allowed}` : "One per line: owner/name or owner/*. No repositories are allowed yet (ALLOWED_REPOSITORIES).",
      }),
      input(FIELDS.baseBranch, "Base branch", text("default branch", { max_length: 200 }), { optional: true }),
      input(FIELDS.verify, "Verify with", text("npm test", { max_length: 2000 }), { optional: true, hint: "Must pass before a PR is opened." }),
      input(FIELDS.options, "Pull requests", {
        type: "checkboxes",
        initial_options: [{ text: { type: "plain_text", text: "Open pull requests" }, value: "pr" }],
        options: [
          { text: { type: "plain_text", text: "Open pull requests" }, value: "pr" },
          { text: { type: "plain_text", text: "as drafts" }, value: "draft" },
        ],
      }, { optional: true }),
    ],
  };
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
