/** A reply's "View diff" button: opens a modal with the start of the repository's diff. */
import type { App, BlockButtonAction } from "@slack/bolt";
import { diffModal } from "../messages/modal.ts";
import { VIEW_DIFF_ACTION } from "../messages/reply.ts";
import type { BotDeps } from "../app.ts";

export function registerViewDiff(app: App, deps: BotDeps): void {
  app.action<BlockButtonAction>(VIEW_DIFF_ACTION, async ({ ack, body, action, client }) => {
    await ack();
    const [jobId = "", repositoryName = ""] = (action.value ?? "").split("|");
    let diff: string | undefined;
    try {
      const row = await deps.store.getRepo(jobId, repositoryName);
      diff = row?.diffKey ? await deps.artifacts.get(row.diffKey) : undefined;
    } catch (err) {
      deps.log.warn({ err, jobId }, "reading a diff failed");
    }
    await client.views.open({ trigger_id: body.trigger_id, view: diffModal(repositoryName, diff) as never });
  });
}
