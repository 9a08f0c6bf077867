/**
 * The campaign buttons' deferred work (bot/listeners/campaign-action.ts acknowledges and defers):
 * runs the action for the person who clicked, posts its summary into the thread, refreshes the
 * root and tells the person the outcome. Loaded on first use (Octokit is not needed at cold start).
 */
import type { CampaignAction } from "../core/jobs/index.ts";
import { healJob, publishJob, retryJob, updateJob, type ActionOutcome, type HealDeps } from "../core/campaign/index.ts";
import { systematicMessage } from "./messages/heal.ts";
import { closeJob, mergeJob, CHUNKED_ACTIONS, runActionChunk, type ChunkDeps, type ChunkedAction } from "../core/campaign/index.ts";
import { refreshJob } from "../core/github/index.ts";
import type { SlackNotifier } from "./slack-notifier.ts";
import { canCancel } from "./submission.ts";
import type { DeferredTask, TaskDeps } from "./task-types.ts";
import { actionSummaryMessage, burndownText, countsText } from "./messages/campaign.ts";

/** GitHub access of the campaign actions; absent pieces make those actions refuse. */
export type CampaignGitHub = Pick<HealDeps, "forge" | "readPr" | "readFailures">;

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
    const campaign: HealDeps = {
      store: deps.store,
      launcher: deps.launcher,
      log: deps.log,
      ...github,
      announce: async (jobNow, summary, s) => {
        await notifier.postInThread?.(jobNow, actionSummaryMessage(summary), s);
      },
      reportSystematic: async (jobNow, found, s) => {
        await notifier.postInThread?.(jobNow, systematicMessage(found), s);
      },
    };
    if (deps.deferred && (CHUNKED_ACTIONS as readonly string[]).includes(task.action)) {
      return await runChunk({ ...campaign, store: deps.store }, deps.deferred, deps.deadline, { ...task, action: task.action as ChunkedAction }, (text) => deps.tell(to, text, signal), async () => deps.notifier.refreshRoot?.(job.jobId, signal), signal);
    }
    if (task.action === "refresh") {
      if (!github.readPr) return deps.tell(to, "Refreshing PRs needs GitHub access (GITHUB_TOKEN or a GitHub App).", signal);
      const r = await refreshJob({ store: campaign.store, readPr: github.readPr, log: deps.log }, job.jobId, {}, signal);
      // A job with --heal N heals what tracking found failing (issue 19).
      if (job.heal && r.summary.failing > 0) await healJob(campaign, { jobId: job.jobId, by: task.userId, auto: true }, signal);
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

/** Longest a chunk runs without a deadline from the runtime (well under Lambda's 300 s). */
export const DEFAULT_CHUNK_MS = 120_000;

/**
 * One chunk of a long action (core/campaign/campaign-chunks.ts): the next chunk goes to `deferred`, the
 * person hears once that it continues in the background, and the last chunk tells the outcome.
 */
async function runChunk(
  deps: ChunkDeps,
  deferred: (task: DeferredTask) => Promise<void>,
  deadline: (() => number) | undefined,
  task: Extract<DeferredTask, { kind: "campaign" }> & { action: ChunkedAction },
  say: (text: string) => Promise<void>,
  refreshRoot: () => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const now = Date.now();
  const clock = { now: Date.now, deadline: Math.min(deadline?.() ?? Infinity, now + DEFAULT_CHUNK_MS) };
  const r = await runActionChunk(deps, { jobId: task.jobId, action: task.action, by: task.userId, ...(task.runId ? { runId: task.runId } : {}) }, clock, signal);
  switch (r.kind) {
    case "continue":
      await deferred({ ...task, runId: r.runId });
      if (!task.runId) await say(`${task.action} \`${task.jobId}\`: ${r.done} of ${r.total} repositories done; it goes on in the background and posts one summary in the thread.`);
      return;
    case "busy":
      return say(`Nothing done: a ${r.action} by <@${r.by}> started ${r.since} is still in progress on \`${task.jobId}\`.`);
    case "gone":
      deps.log.info({ jobId: task.jobId, runId: task.runId }, "campaign chunk found its run ended already");
      return;
    case "finished": {
      await refreshRoot();
      const o = r.outcome;
      if (o.kind === "not_found") return say(`No job \`${task.jobId}\`.`);
      if (o.kind === "refused") return say(`Nothing done: ${o.reason}.`);
      if (task.action === "refresh") return say(`Refreshed ${r.refreshed ?? 0} PRs of \`${task.jobId}\`.${r.campaign ? ` ${burndownText(r.campaign)}` : ""}`);
      return say(`${task.action} \`${task.jobId}\`: ${countsText(o.summary.counts)} (details in the thread).`);
    }
  }
}

function runAction(deps: HealDeps, action: Exclude<CampaignAction, "refresh">, input: { jobId: string; by: string }, signal?: AbortSignal): Promise<ActionOutcome> {
  switch (action) {
    case "heal":
      return healJob(deps, input, signal);
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
