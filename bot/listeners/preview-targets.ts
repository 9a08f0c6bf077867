/**
 * The job modal's "Preview targets" button: acknowledged at once; the resolution (code search
 * can take a while) runs deferred and answers with `views.update` (bot/targets.ts).
 */
import type { App, BlockButtonAction } from "@slack/bolt";
import { isAllowedUser, modalValues, readSubmission } from "../jobs.ts";
import { PREVIEW_TARGETS_ACTION, type ModalMetadata } from "../messages/modal.ts";
import type { BotDeps } from "../task-types.ts";

export function registerPreviewTargets(app: App, deps: BotDeps): void {
  app.action<BlockButtonAction>(PREVIEW_TARGETS_ACTION, async ({ ack, body }) => {
    await ack();
    const view = body.view;
    if (!view || !isAllowedUser(deps.settings, body.user.id)) return;
    let meta: ModalMetadata;
    try {
      meta = JSON.parse(view.private_metadata) as ModalMetadata;
    } catch {
      return;
    }
    const values = view.state.values as never;
    await deps.deferred({
      kind: "preview_targets",
      viewId: view.id,
      ...(view.hash ? { hash: view.hash } : {}),
      meta,
      values: modalValues(values),
      submission: await readSubmission(values, meta, body.user.id),
    });
  });
}
