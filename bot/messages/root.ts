/**
 * The thread root of a job: name, who started it, the instructions (quoted, cut), a progress
 * bar with counts per status and elapsed time, and a Cancel button while the job can still be
 * cancelled. Pure: the same job and clock give the same blocks (golden-tested).
 */
import { finishedCount, isCampaignDone, isTerminalJob, spendLine, type Job } from "../../core/jobs/index.ts";
import { burndownText } from "./campaign.ts";
import { cut, duration, escapeCut, type Block, type SlackMessage } from "./text.ts";
// The message types live in text.ts (campaign.ts needs them and root.ts needs campaign.ts).
export type { Block, SlackMessage } from "./text.ts";

export const CANCEL_ACTION = "cancel_job";

const BAR_WIDTH = 12;

/** A bar of `BAR_WIDTH` cells, `▓` for done and `░` for the rest. */
export function progressBar(done: number, total: number): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
  return "▓".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
}

/** Action id of the "Open dashboard" link button (acknowledged by bot/listeners/open-dashboard.ts). */
export const DASHBOARD_ACTION = "open_dashboard";

/** The root message of `job` as of `now`; `opts.dashboardUrl`: the job page's URL (bot/web/), shown as a link button. */
export function rootMessage(job: Job, now: Date, opts: { dashboardUrl?: string } = {}): SlackMessage {
  const c = job.counters;
  const done = finishedCount(c);
  const running = c.total - done;
  const ended = isTerminalJob(job.status);
  const elapsedMs = (job.finishedAt ? Date.parse(job.finishedAt) : now.getTime()) - Date.parse(job.createdAt);
  const title = escapeCut(job.name, 200);

  let state: string;
  if (job.status === "CANCELLED") state = `cancelled${job.cancelledBy ? ` by <@${job.cancelledBy}>` : ""}`;
  else if (ended) state = `${job.status === "FAILED" ? "finished with failures" : "finished"} in ${duration(elapsedMs)}`;
  else state = job.status === "PENDING" ? "starting" : "running";
  if (ended && isCampaignDone(job.campaign)) state += " · every PR merged or closed ✔";

  const header = `🛠️ *${title}* · started by <@${job.createdBy}> · job \`${job.jobId}\` · ${state}`;
  const instructions = job.type === "script" ? job.script : job.prompt;
  const quote = instructions ? quoteLines(escapeCut(instructions, 600)) : undefined;
  const counts = [
    `${done} / ${c.total}`,
    `✅ ${c.completed}`,
    `➖ ${c.noChanges}`,
    `❌ ${c.failed}`,
    ...(c.cancelled > 0 ? [`🚫 ${c.cancelled}`] : []),
    ...(!ended && running > 0 ? [`⏳ ${running}`] : []),
    duration(elapsedMs),
  ].join(" · ");
  const what = job.type === "script" ? "script" : "Claude";
  const extras = [`${c.total} ${c.total === 1 ? "repository" : "repositories"}`, what];
  if (job.createPullRequests) extras.push(job.pullRequest?.draft ? "draft PRs" : "opens PRs");
  if (job.baseBranch) extras.push(`base \`${escapeCut(job.baseBranch, 100)}\``);
  if (job.verify) extras.push(`verify \`${escapeCut(job.verify, 100)}\``);
  const totals = totalsLine(job);

  const blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text: header } }];
  if (quote) blocks.push({ type: "section", text: { type: "mrkdwn", text: quote } });
  // Not inline code: Slack draws code in red, and a healthy job must not look like an error.
  blocks.push({ type: "section", text: { type: "mrkdwn", text: `${progressBar(done, c.total)}  ${counts}` } });
  if (totals) blocks.push({ type: "section", text: { type: "mrkdwn", text: totals } });
  const spend = spendLine(job);
  if (spend) blocks.push({ type: "section", text: { type: "mrkdwn", text: `💰 ${spend}` } });
  if (job.systematic?.length) blocks.push({ type: "section", text: { type: "mrkdwn", text: escapeCut(`🚨 Systematic: ${job.systematic.map((s) => `"${s.check}" fails with "${s.firstLine}" on ${s.repositories.length} PRs`).join("; ")}`, 2900) } });
  if (job.campaign && job.campaign.prs > 0) blocks.push({ type: "section", text: { type: "mrkdwn", text: burndownText(job.campaign, { slack: true }) } });
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: extras.join(" · ") }] });
  if (!ended) {
    blocks.push({
      type: "actions",
      block_id: "job_actions",
      elements: [
        {
          type: "button",
          action_id: CANCEL_ACTION,
          text: { type: "plain_text", text: "Cancel job" },
          style: "danger",
          value: job.jobId,
          confirm: {
            title: { type: "plain_text", text: "Cancel this job?" },
            text: { type: "plain_text", text: "Repositories not started yet will not run; running ones stop at their next step." },
            confirm: { type: "plain_text", text: "Cancel job" },
            deny: { type: "plain_text", text: "Keep running" },
          },
        },
      ],
    });
  }
  if (ended) {
    // Destructive actions (Close PRs) in a block of their own, under the constructive ones.
    const buttons = campaignButtons(job);
    const constructive = buttons.filter((b) => b.style !== "danger");
    const destructive = buttons.filter((b) => b.style === "danger");
    if (constructive.length > 0) blocks.push({ type: "actions", block_id: "campaign_actions", elements: constructive });
    if (destructive.length > 0) blocks.push({ type: "actions", block_id: "campaign_destructive", elements: destructive });
  }
  if (opts.dashboardUrl) {
    blocks.push({ type: "actions", block_id: "dashboard", elements: [{ type: "button", action_id: DASHBOARD_ACTION, text: { type: "plain_text", text: "Open dashboard" }, url: opts.dashboardUrl }] });
  }
  const campaignDone = isCampaignDone(job.campaign) ? " · campaign done" : "";
  // The fallback text is mrkdwn too (notifications, plain roots): escaped like the blocks.
  return { text: `${escapeCut(job.name, 200)} — ${done} / ${c.total} · ${state}${campaignDone}`, blocks };
}

/** `PRs: 19 opened · tokens 1.9M in / 84k out (~$7.10)`, or undefined before there is anything to sum. */
export function totalsLine(job: Job): string | undefined {
  const t = job.totals;
  if (!t) return undefined;
  const parts: string[] = [];
  if (job.createPullRequests) parts.push(`PRs: ${t.prsOpened} opened`);
  const input = t.inputTokens + t.cacheReadTokens + t.cacheWriteTokens;
  if (input + t.outputTokens > 0) {
    parts.push(`tokens ${compact(input)} in / ${compact(t.outputTokens)} out (~$${(t.costMicroUsd / 1e6).toFixed(2)})`);
  }
  return parts.length ? parts.join("   ·   ") : undefined;
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}k`;
  return String(n);
}

/** Quotes already escaped text line by line. */
function quoteLines(s: string): string {
  return s
    .split("\n")
    .map((l) => `> ${l}`)
    .join("\n");
}

/** Action ids of the campaign buttons (bot/listeners/campaign-action.ts), by action. */
export const CAMPAIGN_ACTIONS = {
  publish: "campaign_publish",
  retry: "campaign_retry",
  update: "campaign_update",
  merge: "campaign_merge",
  close: "campaign_close",
  refresh: "campaign_refresh",
  heal: "campaign_heal",
} as const;

/** The buttons of an ended job, each with a confirmation dialog: only those that would do something. */
export function campaignButtons(job: Job): Block[] {
  const c = job.counters;
  const open = job.campaign?.open ?? 0;
  const hasPrs = job.createPullRequests && (job.totals?.prsOpened ?? 0) > 0;
  const out: Block[] = [];
  const button = (action: keyof typeof CAMPAIGN_ACTIONS, label: string, title: string, text: string, style?: "primary" | "danger"): Block => ({
    type: "button",
    action_id: CAMPAIGN_ACTIONS[action],
    text: { type: "plain_text", text: label },
    ...(style ? { style } : {}),
    value: job.jobId,
    confirm: {
      title: { type: "plain_text", text: title },
      text: { type: "plain_text", text },
      confirm: { type: "plain_text", text: label },
      deny: { type: "plain_text", text: "Not now" },
    },
  });
  if (!job.createPullRequests && c.completed > 0) {
    out.push(button("publish", "Open PRs", "Open the pull requests?", `Opens one PR per changed repository (${c.completed}) from the stored diffs. Nothing runs again.`, "primary"));
  }
  // A finished campaign (every PR merged or closed) has nothing left to retry, merge or close.
  if (isCampaignDone(job.campaign)) return hasPrs ? [button("refresh", "Refresh", "Refresh the PRs?", "Reads every PR's state, checks and reviews from GitHub now.")] : [];
  if (c.failed > 0) out.push(button("retry", "Retry failed", "Retry the failed repositories?", `Runs the ${c.failed} failed repositories again in this job, on the same branch and PRs.`));
  if (open > 0) {
    out.push(button("merge", "Merge green", "Merge the green PRs?", mergeConfirmText(job), "primary"));
    out.push(button("update", "Update PRs", "Update the PRs?", "Redoes the change on the current base for PRs that conflict or are behind, and pushes their branch; commits others pushed there are kept."));
    if ((job.campaign?.failing ?? 0) > 0) {
      out.push(button("heal", "Heal failing", "Heal the failing PRs?", "Runs Claude on each PR whose checks fail, with the checks' output, and pushes one fixing commit on the same branch. Failures shared by many PRs are reported instead."));
    }
    out.push(button("close", "Close PRs", "Close the open PRs?", `Closes the ${open} open PRs without merging and deletes their branches. Merged ones stay merged.`, "danger"));
  }
  if (hasPrs) out.push(button("refresh", "Refresh", "Refresh the PRs?", "Reads every PR's state, checks and reviews from GitHub now."));
  return out;
}

/**
 * The Merge green confirmation: what merges, and how many open PRs without any check would merge
 * too (the job's `allowNoChecks`) or stay open.
 */
export function mergeConfirmText(job: Pick<Job, "campaign" | "allowNoChecks">): string {
  const none = job.campaign?.noChecks ?? 0;
  const base = "Merges every open PR whose checks pass and that is approved, then deletes its branch. The others stay open, each with its reason.";
  if (none === 0) return base;
  const prs = `${none} open PR${none === 1 ? "" : "s"} without any check`;
  return job.allowNoChecks ? `${base} ${prs} would merge too (allowNoChecks).` : `${base} ${prs} stay${none === 1 ? "s" : ""} open (no checks ran).`;
}
