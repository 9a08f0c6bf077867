/**
 * What people read about a campaign: the burndown line (root message, `cody status`) and the one
 * summary reply a bulk action posts into the job's thread (within 50 blocks and 3000 characters a
 * section, whatever the number of repositories: results are grouped by outcome and reason). Pure.
 */
import { isCampaignDone, type CampaignSummary } from "../../core/jobs/index.ts";
import type { ActionSummary } from "../../core/campaign/index.ts";
import { cut, escapeMrkdwn, SLACK_LIMITS, type Block, type SlackMessage } from "./text.ts";

/**
 * `Campaign: 12 merged · 5 open (3 passing, 1 failing, 1 pending, 1 no checks · 2 awaiting review · 1 edited by others) · 3 closed`,
 * `· done` when nothing is open, `· as of 05:31 UTC` (the last refresh; in Slack, the reader's
 * own time), then the failing PRs: a few named, then "and N more". `slack`: mrkdwn with links.
 * PRs on which no check ran are counted apart, never as passing.
 */
export function burndownText(s: CampaignSummary, opts: { slack?: boolean } = {}): string {
  const none = s.noChecks ? `, ${s.noChecks} no checks` : "";
  const edited = s.editedByOthers ? ` · ${s.editedByOthers} edited by others` : "";
  const open = s.open > 0
    ? `${s.open} open (${s.passing} passing, ${s.failing} failing, ${s.pending} pending${none} · ${s.awaitingReview} awaiting review${s.conflicting ? ` · ${s.conflicting} conflicting` : ""}${edited})`
    : "0 open";
  let line = `Campaign: ${s.merged} merged · ${open} · ${s.closed} closed${isCampaignDone(s) ? " · done ✔" : ""}`;
  if (s.refreshedAt && !Number.isNaN(Date.parse(s.refreshedAt))) {
    const hhmm = `${s.refreshedAt.slice(11, 16)} UTC`;
    line += ` · as of ${opts.slack ? `<!date^${Math.floor(Date.parse(s.refreshedAt) / 1000)}^{time}|${hhmm}>` : hhmm}`;
  }
  const failing = s.failingPrs ?? [];
  if (s.open > 0 && failing.length > 0) {
    const shown = failing.slice(0, 3).map((f) => {
      const name = `${f.repository}${f.number ? ` #${f.number}` : ""}`;
      const label = opts.slack ? (f.url ? `<${f.url}|${escapeMrkdwn(name)}>` : escapeMrkdwn(name)) : name;
      return `${label}${f.checks.length ? ` (${(opts.slack ? escapeMrkdwn(f.checks.join(", ")) : f.checks.join(", "))})` : ""}`;
    });
    const more = s.failing - shown.length;
    line += `\n${opts.slack ? "Failing: " : "failing: "}${shown.join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
  }
  return line;
}

const KIND_EMOJI: Record<string, string> = { launched: "🔁", merged: "🟣", closed: "⚫", up_to_date: "✅", skipped: "⏭️", failed: "❌" };
const VERB: Record<string, string> = { publish: "Publish", retry: "Retry", update: "Update", merge: "Merge", close: "Close", refresh: "Refresh" };

function who(by: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(by) ? `<@${by}>` : escapeMrkdwn(by);
}

/** The counts of an action, e.g. `🟣 12 merged · ⏭️ 5 skipped · ❌ 1 failed`. */
export function countsText(counts: Record<string, number>): string {
  return Object.entries(counts).map(([k, n]) => `${KIND_EMOJI[k] ?? "•"} ${n} ${k.replace("_", " ")}`).join(" · ");
}

/** Results grouped by (kind, reason): `[kind, reason, repositories]`, in first-seen order. */
function groups(s: ActionSummary): Array<{ kind: string; reason?: string; repos: string[] }> {
  const out = new Map<string, { kind: string; reason?: string; repos: string[] }>();
  for (const r of s.all) {
    const key = `${r.kind}\u0000${r.reason ?? ""}`;
    const g = out.get(key) ?? { kind: r.kind, ...(r.reason ? { reason: r.reason } : {}), repos: [] };
    g.repos.push(r.repository);
    out.set(key, g);
  }
  return [...out.values()];
}

/** The thread reply of an action: a header with the counts, then one section per outcome and reason. */
export function actionSummaryMessage(s: ActionSummary): SlackMessage {
  const header = `${VERB[s.action] ?? s.action} by ${who(s.by)} · job \`${s.jobId}\`: ${countsText(s.counts)}`;
  const blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text: cut(header, SLACK_LIMITS.sectionText) } }];
  const all = groups(s);
  const room = SLACK_LIMITS.messageBlocks - 2;
  for (const g of all.slice(0, room)) {
    const head = `${KIND_EMOJI[g.kind] ?? "•"} *${g.kind.replace("_", " ")}*${g.reason ? ` — ${escapeMrkdwn(cut(g.reason, 300))}` : ""} (${g.repos.length}): `;
    const names: string[] = [];
    let length = head.length;
    for (const name of g.repos) {
      const piece = escapeMrkdwn(name);
      if (length + piece.length + 2 > SLACK_LIMITS.sectionText - 40) break;
      names.push(piece);
      length += piece.length + 2;
    }
    const more = g.repos.length - names.length;
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `${head}${names.join(", ")}${more > 0 ? ` and ${more} more` : ""}` } });
  }
  if (all.length > room) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `… ${all.length - room} more groups; \`cody status ${s.jobId}\` has every repository` }] });
  return { text: cut(`${VERB[s.action] ?? s.action} ${s.jobId}: ${countsText(s.counts)}`, SLACK_LIMITS.fallbackText), blocks };
}

/** The same summary as plain lines, for the CLI. */
export function actionSummaryText(s: ActionSummary): string {
  const lines = [`${VERB[s.action] ?? s.action} job ${s.jobId} by ${s.by}: ${countsText(s.counts)}`];
  for (const r of s.all) lines.push(`  ${(KIND_EMOJI[r.kind] ?? "•")} ${r.repository} — ${r.kind.replace("_", " ")}${r.reason ? `: ${r.reason}` : ""}`);
  return `${lines.join("\n")}\n`;
}
