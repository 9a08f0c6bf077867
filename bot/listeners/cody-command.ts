/**
 * `/cody [help|list|status <job>|cancel <job>]`: answers in the acknowledgement (ephemeral), or
 * acknowledges and opens the job modal with the trigger id.
 */
import type { App } from "@slack/bolt";
import { runCommand } from "../jobs.ts";
import { jobModal } from "../messages/modal.ts";
import type { BotDeps } from "../task-types.ts";

export function registerCodyCommand(app: App, deps: BotDeps): void {
  app.command("/cody", async ({ command, ack, client }) => {
    let answer;
    try {
      answer = await runCommand(deps, { text: command.text ?? "", userId: command.user_id, channel: command.channel_id });
    } catch (err) {
      deps.log.error({ err }, "/cody failed");
      return ack({ response_type: "ephemeral", text: "Sorry, something went wrong on my side (internal error). Please try again." });
    }
    if (answer.kind === "reply") return ack({ response_type: "ephemeral", text: answer.text });
    await ack();
    if (answer.kind === "cancel") {
      await deps.deferred({ kind: "cancel_job", jobId: answer.jobId, userId: command.user_id, channel: command.channel_id });
      return;
    }
    await client.views.open({
      trigger_id: command.trigger_id,
      view: jobModal({ channel: command.channel_id, teamId: command.team_id }, deps.settings.allowlist) as never,
    });
  });
}
