/** Registers every listener of the bot on a Bolt app. */
import type { App } from "@slack/bolt";
import type { BotDeps } from "../task-types.ts";
import { registerTeamGuard } from "../access.ts";
import { registerCancelJob } from "./cancel-job.ts";
import { registerCodyCommand } from "./cody-command.ts";
import { registerJobModal } from "./job-modal.ts";
import { registerPreviewTargets } from "./preview-targets.ts";
import { registerViewDiff } from "./view-diff.ts";
import { registerCampaignAction } from "./campaign-action.ts";
import { registerOpenDashboard } from "./open-dashboard.ts";

/**
 * Adds the workspace guard (before everything), the `/cody` command, the job modal (and its
 * Preview targets button), and the Cancel, View diff and campaign buttons to `app`.
 */
export function registerListeners(app: App, deps: BotDeps): void {
  registerTeamGuard(app, deps);
  registerCodyCommand(app, deps);
  registerJobModal(app, deps);
  registerPreviewTargets(app, deps);
  registerCancelJob(app, deps);
  registerViewDiff(app, deps);
  registerCampaignAction(app, deps);
  registerOpenDashboard(app);
}
