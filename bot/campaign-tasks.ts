/**
 * The campaign buttons' deferred work (bot/listeners/campaign-action.ts acknowledges and defers):
 * runs the action for the person who clicked, posts its summary into the thread, refreshes the
 * root and tells the person the outcome. Loaded on first use (Octokit is not needed at cold start).
 */
import type { CampaignAction } from "../core/jobs/index.ts";
import { publishJob, retryJob, updateJob, type ActionOutcome, type CampaignDeps } from "../core/campaign/index.ts";
import { closeJob, mergeJob } from "../core/campaign/index.ts";
import { refreshJob } from "../core/github/index.ts";
import type { SlackNotifier } from "./slack-notifier.ts";
import { canCancel } from "./submission.ts";
import type { DeferredTask, TaskDeps } from "./task-types.ts";
import { actionSummaryMessage, burndownText, countsText } from "./messages/campaign.ts";

/** GitHub access of the campaign actions; absent pieces make those actions refuse. */
export type CampaignGitHub = Pick<CampaignDeps, "forge" | "readPr">;

/** What the deferred campaign task needs (TaskDeps carries the optional `campaignGitHub`). */
export type CampaignTaskDeps = TaskDeps;

/**
 * Runs one campaign button for `task.userId` (creator or ALLOWED_SLACK_USERS, checked again here:
 * the listener's check and this run may be seconds apart). Never throws: problems are logged and
 * told to the person.
 */
export async function runCampaignTask(deps: CampaignTaskDeps, task: Extract<DeferredTask, { kind: "campaign" }>, signal?: AbortSignal): Promise<void> {
  const to = { userId: task.userId, ...(task.channel ? { channel: task.channel } : {}) };
  try {
    const job = await deps.store.getJob(task.jobId, signal);
    if (!job) return deps.tell(to, `No job \`${task.jobId}\`. See \`/cody list\`.`, signal);
    if (!canCancel(deps.settings, job, task.userId)) return deps.tell(to, refusalText(job.createdBy, task.action, task.jobId), signal);
    const github = (await deps.campaignGitHub?.()) ?? {};
    const notifier = deps.notifier as TaskDeps["notifier"] & Partial<Pick<SlackNotifier, "postInThread">>;
    const campaign: CampaignDeps = {
      store: deps.store,
      launcher: deps.launcher,
      log: deps.log,
      ...github,
      announce: async (jobNow, summary, s) => {
        await notifier.postInThread?.(jobNow, actionSummaryMessage(summary), s);
      },
    };
    if (task.action === "refresh") {
      if (!github.readPr) return deps.tell(to, "Refreshing PRs needs GitHub access (GITHUB_TOKEN or a GitHub App).", signal);
      const r = await refreshJob({ store: campaign.store, readPr: github.readPr, log: deps.log }, job.jobId, {}, signal);
      await deps.notifier.refreshRoot?.(job.jobId, signal);
      return deps.tell(to, `Refreshed ${r.refreshed} PRs of \`${job.jobId}\`. ${burndownText(r.summary)}`, signal);
    }
    const outcome = await runAction(campaign, task.action, { jobId: job.jobId, by: task.userId }, signal);
    await deps.notifier.refreshRoot?.(job.jobId, signal);
    if (outcome.kind === "not_found") return deps.tell(to, `No job \`${task.jobId}\`.`, signal);
    if (outcome.kind === "refused") return deps.tell(to, `Nothing done: ${outcome.reason}.`, signal);
    await deps.tell(to, `${task.action} \`${job.jobId}\`: ${countsText(outcome.summary.counts)} (details in the thread).`, signal);
  } catch (err) {
    deps.log.error({ err, jobId: task.jobId, action: task.action }, "campaign action failed");
    await deps.tell(to, `The ${task.action} of \`${task.jobId}\` failed: internal error (job ${task.jobId}). Please try again.`, signal).catch(() => undefined);
  }
}

function runAction(deps: CampaignDeps, action: Exclude<CampaignAction, "refresh">, input: { jobId: string; by: string }, signal?: AbortSignal): Promise<ActionOutcome> {
  switch (action) {
    case "publish":
      return publishJob(deps, input, signal);
    case "retry":
      return retryJob(deps, input, signal);
    case "update":
      return updateJob(deps, input, signal);
    case "merge":
      return mergeJob(deps, input, signal);
    case "close":
      return closeJob(deps, input, signal);
  }
}

/** What someone who may not act on a job reads. */
export function refusalText(createdBy: string, action: CampaignAction, jobId: string): string {
  return `Only the job's creator (<@${createdBy}>) or an admin can ${action} \`${jobId}\`.`;
}
