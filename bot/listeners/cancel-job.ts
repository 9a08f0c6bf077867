/**
 * The root message's "Cancel job" button: refuses people who may not cancel (ephemeral), else
 * hands the cancel to `deferred` (a job of 1000 repositories takes longer than Slack waits).
 */
import type { App, BlockButtonAction } from "@slack/bolt";
import { canCancel, cancelText } from "../jobs.ts";
import { CANCEL_ACTION } from "../messages/root.ts";
import type { BotDeps } from "../task-types.ts";

export function registerCancelJob(app: App, deps: BotDeps): void {
  app.action<BlockButtonAction>(CANCEL_ACTION, async ({ ack, body, action }) => {
    await ack();
    const jobId = action.value ?? "";
    const userId = body.user.id;
    const channel = body.channel?.id;
    const to = { userId, ...(channel ? { channel } : {}) };
    const job = await deps.store.getJob(jobId);
    if (!job) return deps.tell(to, cancelText({ kind: "not_found" }, jobId));
    if (!canCancel(deps.settings, job, userId)) return deps.tell(to, cancelText({ kind: "refused", job }, jobId));
    await deps.deferred({ kind: "cancel_job", jobId, userId, ...(channel ? { channel } : {}) });
  });
}
