/**
 * Submission of the job modal: checks every field before the acknowledgement and answers
 * `response_action: "errors"` on the exact field; otherwise acknowledges (closing the modal) and
 * hands the creation to `deferred`, keyed by the view id so a repeated submission makes one job.
 */
import type { App } from "@slack/bolt";
import { commandRefusal, gitHubRefusal } from "../access.ts";
import { checkSubmission, isAllowedUser, jobIdForView, NOT_ALLOWED, readSubmission } from "../jobs.ts";
import { FIELDS, JOB_MODAL_CALLBACK, type ModalMetadata } from "../messages/modal.ts";
import type { BotDeps } from "../task-types.ts";

export function registerJobModal(app: App, deps: BotDeps): void {
  app.view(JOB_MODAL_CALLBACK, async ({ ack, body, view }) => {
    const userId = body.user.id;
    if (!isAllowedUser(deps.settings, userId)) {
      return ack({ response_action: "errors", errors: { [FIELDS.instructions]: NOT_ALLOWED } });
    }
    let meta: ModalMetadata;
    try {
      meta = JSON.parse(view.private_metadata) as ModalMetadata;
    } catch {
      return ack({ response_action: "errors", errors: { [FIELDS.name]: "This form is out of date; close it and type /cody again." } });
    }
    const submission = await readSubmission(view.state.values as never, meta, userId);
    const errors = { ...checkSubmission(submission, deps.settings.allowlist, meta), ...commandRefusal(deps.settings, submission), ...gitHubRefusal(deps.settings, submission) };
    if (Object.keys(errors).length > 0) return ack({ response_action: "errors", errors });
    await ack();
    await deps.deferred({ kind: "create_job", jobId: jobIdForView(view.id), submission });
  });
}
