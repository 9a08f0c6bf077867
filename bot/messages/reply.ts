/**
 * Thread replies for finished repositories: one section a repository (emoji, name, files and
 * +/− lines, links, failure reason, tokens) with a "View diff" button when there is a diff.
 * Several repositories that ended together share one reply; a reply holds at most 50 blocks and
 * every section stays under 3000 characters whatever the URLs or error texts. Pure.
 */
import type { RepoRow } from "../../core/jobs/index.ts";
import type { Block, SlackMessage } from "./root.ts";
import { compactNumber, cut, escapeCut, escapeMrkdwn, link, SLACK_LIMITS } from "./text.ts";

export const VIEW_DIFF_ACTION = "view_diff";

/** One finished repository with the links people follow. */
export type ReplyItem = { repo: RepoRow; diffUrl?: string; transcriptUrl?: string };

const EMOJI: Record<string, string> = { COMPLETED: "✅", NO_CHANGES: "➖", FAILED: "❌", CANCELLED: "🚫" };

/** The mrkdwn line of one repository, within `max` characters (links dropped first, then the reason cut). */
export function replyLine(item: ReplyItem, max: number = SLACK_LIMITS.sectionText): string {
  const { repo } = item;
  const name = `${EMOJI[repo.status] ?? "•"} *${escapeMrkdwn(repo.repositoryName)}*`;
  const what: string[] = [];
  if (repo.status === "NO_CHANGES") what.push(repo.error ? escapeCut(repo.error, 500) : "no change needed");
  if (repo.editedByOthers) what.push(`edited by others (${repo.editedByOthers} commit${repo.editedByOthers === 1 ? "" : "s"} kept)`);
  if (repo.diffStats) {
    const s = repo.diffStats;
    what.push(`${s.files} ${s.files === 1 ? "file" : "files"}, +${s.additions} −${s.deletions}`);
  }
  if (repo.status === "FAILED" || repo.status === "CANCELLED") what.push(mentionCanceller(escapeCut(repo.error ?? repo.status.toLowerCase(), 500)));
  const links: string[] = [];
  // One way to the diff: the stable link when there is one, else the "View diff" button.
  if (item.diffUrl) links.push(link(item.diffUrl, "diff"));
  if (repo.prUrl) links.push(link(repo.prUrl, repo.prNumber ? `PR #${repo.prNumber}` : "PR"));
  if (item.transcriptUrl) links.push(link(item.transcriptUrl, "Claude transcript"));
  const tokens = repo.usage ? repo.usage.inputTokens + repo.usage.outputTokens + repo.usage.cacheReadTokens + repo.usage.cacheWriteTokens : 0;
  const tail = tokens > 0 ? [`${compactNumber(tokens)} tokens`] : [];

  const build = (ls: string[]) => {
    const head = what.length > 0 ? `${name} — ${what.join(" · ")}` : name;
    return [head, ...ls, ...tail].join(" · ");
  };
  // Drop links from the longest down until the line fits; the PR link goes last.
  const kept = [...links];
  let line = build(kept);
  while (line.length > max && kept.length > 0) {
    let longest = 0;
    kept.forEach((l, i) => l.length > kept[longest]!.length && (longest = i));
    kept.splice(longest, 1);
    line = build(kept);
  }
  return cut(line, max);
}

/**
 * The replies for `items` (already in order): as few messages as Slack's 50-block limit allows,
 * each section one repository.
 */
export function replyMessages(items: readonly ReplyItem[]): SlackMessage[] {
  const out: SlackMessage[] = [];
  for (let i = 0; i < items.length; i += SLACK_LIMITS.messageBlocks) {
    const chunk = items.slice(i, i + SLACK_LIMITS.messageBlocks);
    const blocks: Block[] = chunk.map((item) => {
      const block: Block = { type: "section", text: { type: "mrkdwn", text: replyLine(item) } };
      if (item.repo.diffKey && item.repo.status !== "NO_CHANGES" && !item.diffUrl) {
        block.accessory = {
          type: "button",
          action_id: VIEW_DIFF_ACTION,
          text: { type: "plain_text", text: "View diff" },
          value: cut(`${item.repo.jobId}|${item.repo.repositoryName}`, SLACK_LIMITS.buttonValue),
        };
      }
      return block;
    });
    out.push({ text: fallback(chunk), blocks });
  }
  return out;
}

/** `cancelled by UDANA` (a Slack user id) as a mention, `cancelled by <@UDANA>`; other names stay text. */
export function mentionCanceller(escaped: string): string {
  return escaped.replace(/^cancelled by ([UW][A-Z0-9]{2,})$/, "cancelled by <@$1>");
}

function fallback(chunk: readonly ReplyItem[]): string {
  if (chunk.length === 1) {
    const r = chunk[0]!.repo;
    return `${EMOJI[r.status] ?? ""} ${escapeCut(r.repositoryName, 200)}: ${r.status.toLowerCase().replace("_", " ")}`;
  }
  const counts = new Map<string, number>();
  for (const { repo } of chunk) counts.set(repo.status, (counts.get(repo.status) ?? 0) + 1);
  const parts = [...counts].map(([s, n]) => `${EMOJI[s] ?? ""} ${n}`);
  return `${chunk.length} repositories finished: ${parts.join(" ")}`;
}
