/**
 * Ephemeral answers to `/cody help|list|status`, and refusals. Plain mrkdwn text, cut to stay
 * within one message. Pure.
 */
import { finishedCount, type Job, type RepoRow } from "../../core/jobs/index.ts";
import { cut, duration, escapeCut, escapeMrkdwn, SLACK_LIMITS } from "./text.ts";

const STATUS_EMOJI: Record<string, string> = { PENDING: "⏳", RUNNING: "🏃", COMPLETED: "✅", FAILED: "❌", CANCELLED: "🚫" };

/** `/cody help`. */
export function helpText(): string {
  return [
    "*Cody Batch* applies one change to many repositories and reports here.",
    "• `/cody` — open the form for a new job",
    "• `/cody list` — the last 10 jobs you started or that report in this channel",
    "• `/cody status <job>` — a job's progress and its failing repositories",
    "• `/cody cancel <job>` — cancel a job you started",
    "• `/cody help` — this help",
    "Example: `/cody`, then Repositories `acme/*`, Instructions _Replace fetchJson(url) with await http.get(url).json() and update tests_.",
  ].join("\n");
}

/** `/cody list`: name, who, status, counts, age; newest first. */
export function listText(jobs: readonly Job[], now: Date): string {
  if (jobs.length === 0) return "No jobs yet. Start one with `/cody`.";
  const lines = jobs.map((j) => {
    const c = j.counters;
    return `${STATUS_EMOJI[j.status] ?? ""} \`${j.jobId}\` *${escapeCut(j.name, 60)}* · <@${j.createdBy}> · ${j.status.toLowerCase()} · ` +
      `${finishedCount(c)} / ${c.total} (✅ ${c.completed} ➖ ${c.noChanges} ❌ ${c.failed}) · ${duration(now.getTime() - Date.parse(j.createdAt))} ago`;
  });
  return cut(`*Recent jobs*\n${lines.join("\n")}`, SLACK_LIMITS.sectionText);
}

/** `/cody status <job>`: the summary plus failing repositories and their reasons. */
export function statusText(job: Job, repos: readonly RepoRow[], now: Date): string {
  const c = job.counters;
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now.getTime();
  const head = `${STATUS_EMOJI[job.status] ?? ""} \`${job.jobId}\` *${escapeCut(job.name, 100)}* · started by <@${job.createdBy}> · ${job.status.toLowerCase()}` +
    `\n${finishedCount(c)} / ${c.total} · ✅ ${c.completed} · ➖ ${c.noChanges} · ❌ ${c.failed} · 🚫 ${c.cancelled} · ${duration(end - Date.parse(job.createdAt))}`;
  const failed = repos.filter((r) => r.status === "FAILED");
  if (failed.length === 0) return head;
  const shown = failed.slice(0, 20).map((r) => `• ${escapeMrkdwn(r.repositoryName)}: ${escapeCut(r.error ?? "failed", 200)}`);
  const more = failed.length > 20 ? `\n…and ${failed.length - 20} more` : "";
  return cut(`${head}\n*Failing repositories*\n${shown.join("\n")}${more}`, SLACK_LIMITS.sectionText);
}
