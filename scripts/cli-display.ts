/**
 * What the CLI shows while a job runs (a live line on a terminal, plain lines otherwise) and
 * the final table (status, files, +/−, diff path or link, PR).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { editedByOthers, finishedCount, isTerminalRepo, type Job, type RepoRow } from "../core/jobs/index.ts";
import { repoLine } from "../core/jobs/index.ts";
import { newConsoleNotifier } from "../core/jobs/index.ts";
import { sweepJob } from "../core/launch/index.ts";
import type { CliEnvironment } from "../environment/index.ts";
import { burndownText } from "../bot/messages/campaign.ts";
import { spendLine } from "../core/jobs/index.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Follows a job until every repository has ended. With a local launcher, once its runners are
 * all gone, rows no runner finished are failed by the watchdog so the job always ends.
 */
export async function watchJob(world: CliEnvironment, job0: Job, opts: { quiet: boolean; pollMs?: number }): Promise<{ job: Job; rows: RepoRow[] }> {
  const tty = process.stderr.isTTY && !opts.quiet;
  const seen = new Set<string>();
  const started = Date.now();
  let idle = false;
  // The poll ends early when the runners are done, so the command exits right after the last repository.
  let idleNow = world.launcher.whenIdle?.(job0.jobId).then(() => void (idle = true));
  for (;;) {
    const job = (await world.store.getJob(job0.jobId)) ?? job0;
    const rows = await world.store.listRepos(job0.jobId);
    if (!opts.quiet) {
      for (const r of rows) {
        if (isTerminalRepo(r.status) && !seen.has(r.repositoryName)) {
          seen.add(r.repositoryName);
          if (tty) process.stderr.write("\r\x1b[2K");
          process.stderr.write(`${repoLine({ job, repo: r })}\n`);
        }
      }
      if (tty) process.stderr.write(`\r\x1b[2K${progressLine(job, rows, Date.now() - started)}`);
    }
    if (rows.every((r) => isTerminalRepo(r.status)) && (job.finishedAt || rows.length === 0)) {
      if (tty) process.stderr.write("\r\x1b[2K");
      return { job, rows };
    }
    if (idle) {
      await sweepJob(
        { store: world.store, notifier: newConsoleNotifier(world.log), log: world.log },
        job0.jobId,
        { staleBefore: new Date(Date.now() + 1000), includePending: true, now: new Date() },
      );
      idle = false;
      idleNow = world.launcher.whenIdle?.(job0.jobId).then(() => void (idle = true));
      continue;
    }
    await Promise.race([sleep(opts.pollMs ?? 300), ...(idleNow && !idle ? [idleNow] : [])]);
  }
}

/** `▓▓▓░░░ 3 / 5 · ✅ 2 · ➖ 1 · ❌ 0 · ⏳ 2 · 4 s` */
export function progressLine(job: Job, rows: readonly RepoRow[], elapsedMs: number): string {
  const c = job.counters;
  const done = finishedCount(c);
  const width = 20;
  const filled = c.total === 0 ? width : Math.round((done / c.total) * width);
  const running = rows.filter((r) => !isTerminalRepo(r.status) && r.status !== "PENDING").length;
  return `${"▓".repeat(filled)}${"░".repeat(width - filled)} ${done} / ${c.total} · ✅ ${c.completed} · ➖ ${c.noChanges} · ❌ ${c.failed} · ⏳ ${c.total - done} (${running} running) · ${Math.round(elapsedMs / 1000)} s`;
}

/**
 * Prints the final table. Diffs are saved under `<CODY_DIR>/diffs/<jobId>/owner/name.diff` on the
 * embedded stack (shown as paths); elsewhere the presigned link is shown.
 */
export async function printFinalTable(world: CliEnvironment, job: Job, rows: readonly RepoRow[]): Promise<void> {
  const local = Boolean(world.config.s3Endpoint);
  // Campaign columns (issue 12) once any PR has been refreshed.
  const tracked = rows.some((r) => r.pr);
  const table: string[][] = [["REPOSITORY", "STATUS", "FILES", "+/−", "DIFF", ...(tracked ? ["PR STATE", "CHECKS", "REVIEW"] : []), "PR / REASON"]];
  for (const r of rows) {
    let diff = "";
    if (r.diffKey) {
      if (local) {
        const body = await world.artifacts.get(r.diffKey);
        if (body !== undefined) {
          const path = join(world.env.CODY_DIR ?? ".cody", r.diffKey);
          mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
          writeFileSync(path, body, { mode: 0o600 });
          diff = relative(process.cwd(), path);
        }
      } else {
        diff = await world.artifacts.link(r.diffKey);
      }
    }
    table.push([
      r.repositoryName,
      r.status,
      r.diffStats ? String(r.diffStats.files) : "",
      r.diffStats ? `+${r.diffStats.additions} −${r.diffStats.deletions}` : "",
      diff,
      ...(tracked ? prColumns(r) : []),
      r.prUrl ?? r.error ?? "",
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd());
  const c = job.counters;
  const took = job.finishedAt ? ` in ${Math.max(0, Math.round((Date.parse(job.finishedAt) - Date.parse(job.createdAt)) / 1000))} s` : "";
  process.stdout.write(
    `\nJob ${job.jobId} ${job.status}${took}: ${job.name}\n` +
      `${lines.join("\n")}\n` +
      `\n${c.completed} completed · ${c.noChanges} no changes · ${c.failed} failed · ${c.cancelled} cancelled · ${c.total} total\n` +
      (spendLine(job) ? `${spendLine(job)}\n` : "") +
      (job.systematic ?? []).map((s) => `systematic failure: "${s.check}" fails with "${s.firstLine}" on ${s.repositories.length} PRs (not healed)\n`).join("") +
      (job.campaign ? `${burndownText(job.campaign)}\n` : ""),
  );
}

/** PR STATE, CHECKS (with the failing names), REVIEW of a tracked row. */
function prColumns(r: RepoRow): string[] {
  if (!r.pr) return ["", "", ""];
  const checks = r.pr.checks === "failing" && r.pr.failingChecks.length ? `failing: ${r.pr.failingChecks.join(",")}` : r.pr.checks === "none" ? "no checks" : r.pr.checks;
  return [`${r.pr.state}${r.pr.conflicting ? " (conflict)" : ""}${editedByOthers(r) ? " (edited by others)" : ""}`, checks, r.pr.review.replace("_", " ")];
}
