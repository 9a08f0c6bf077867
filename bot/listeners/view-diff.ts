/**
 * A reply's "View diff" button: opens a modal with the start of the repository's diff, for people
 * allowed to use the bot who may see the job (its creator, or anyone in the job's channel).
 */
import type { App, BlockButtonAction } from "@slack/bolt";
import { canSee } from "../access.ts";
import { isAllowedUser, NOT_ALLOWED } from "../jobs.ts";
import { diffModal } from "../messages/modal.ts";
import { VIEW_DIFF_ACTION } from "../messages/reply.ts";
import type { BotDeps } from "../task-types.ts";

export function registerViewDiff(app: App, deps: BotDeps): void {
  app.action<BlockButtonAction>(VIEW_DIFF_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const [jobId = "", repositoryName = ""] = (action.value ?? "").split("|");
    const userId = body.user.id;
    const channel = body.channel?.id;
    const to = { userId, ...(channel ? { channel } : {}) };
    if (!isAllowedUser(deps.settings, userId)) return deps.tell(to, NOT_ALLOWED);
    let diff: string | undefined;
    try {
      const job = await deps.store.getJob(jobId);
      if (!job || !canSee(job, to)) {
        return deps.tell(to, `You can't see the diffs of \`${jobId}\`: only its creator and people in its channel can.`);
      }
      const row = await deps.store.getRepo(jobId, repositoryName);
      diff = row?.diffKey ? await deps.artifacts.get(row.diffKey) : undefined;
    } catch (err) {
      deps.log.warn({ err, jobId }, "reading a diff failed");
    }
    await client.views.open({ trigger_id: body.trigger_id, view: diffModal(repositoryName, diff) as never });
  });
}
