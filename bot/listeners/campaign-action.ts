/**
 * The root message's campaign buttons (Open PRs, Retry failed, Merge green, Update PRs, Close PRs,
 * Refresh; each confirmed in Slack's dialog first): refuses people who may not act on the job
 * (ephemeral), else hands the action to `deferred` (hundreds of PRs take longer than Slack waits).
 */
import type { App, BlockButtonAction } from "@slack/bolt";
import type { CampaignAction } from "../../core/jobs/index.ts";
import { canCancel } from "../jobs.ts";
import { CAMPAIGN_ACTIONS } from "../messages/root.ts";
import type { BotDeps } from "../task-types.ts";

const BY_ID = new Map<string, CampaignAction>(Object.entries(CAMPAIGN_ACTIONS).map(([action, id]) => [id, action as CampaignAction]));

export function registerCampaignAction(app: App, deps: BotDeps): void {
  app.action<BlockButtonAction>(/^campaign_[a-z]+$/, async ({ ack, body, action }) => {
    await ack();
    const kind = BY_ID.get(action.action_id);
    if (!kind) return;
    const jobId = action.value ?? "";
    const userId = body.user.id;
    const channel = body.channel?.id;
    const to = { userId, ...(channel ? { channel } : {}) };
    const job = await deps.store.getJob(jobId);
    if (!job) return deps.tell(to, `No job \`${jobId}\`. See \`/cody list\`.`);
    if (!canCancel(deps.settings, job, userId)) {
      return deps.tell(to, `Only the job's creator (<@${job.createdBy}>) or an admin can ${kind} \`${jobId}\`.`);
    }
    await deps.deferred({ kind: "campaign", action: kind, jobId, userId, ...(channel ? { channel } : {}) });
  });
}
