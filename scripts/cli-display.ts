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
import { UsageError } from "./cli-usage-error.ts";
import type { CliEnvironment } from "../environment/index.ts";
import { burndownText } from "../bot/messages/campaign.ts";
import { spendLine } from "../core/jobs/index.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Follows a job until every repository has ended. With a local launcher, once its runners are
 * all gone, rows no runner finished are failed by the watchdog so the job always ends.
 */
export async function watchJob(world: CliEnvironment, job0: Job, opts: { quiet: boolean; pollMs?: number; hush?: () => boolean }): Promise<{ job: Job; rows: RepoRow[] }> {
  const tty = process.stderr.isTTY && !opts.quiet;
  const seen = new Set<string>();
  const started = Date.now();
  let idle = false;
  // The poll ends early when the runners are done, so the command exits right after the last repository.
  let idleNow = world.launcher.whenIdle?.(job0.jobId).then(() => void (idle = true));
  for (;;) {
    const job = (await world.store.getJob(job0.jobId)) ?? job0;
    const rows = await world.store.listRepos(job0.jobId);
    // `hush` (after Ctrl-C): nothing more until the table.
    if (!opts.quiet && !opts.hush?.()) {
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

/** How the final table is printed: `wide` shows every column in full; `since` times an action (publish, retry) on its own. */
export type TableOptions = { wide?: boolean; since?: Date };

/** The widest the table gets without `--wide`: it fits a 100-column terminal. */
export const TABLE_COLUMNS = 100;

/**
 * A reason as one table cell: its first line, the runner's checkout path shown as `/repo`
 * (`/tmp/cody-j-…-0-a1/repo/src/x.ts` → `/repo/src/x.ts`), runs of spaces collapsed.
 */
export function oneLineReason(reason: string): string {
  const lines = repoRelative(reason).split("\n").map((l) => l.trim()).filter(Boolean);
  const first = (lines[0] ?? "").replace(/\s+/g, " ");
  return lines.length > 1 ? `${first.replace(/:$/, "")} …` : first;
}

/** Replaces the runner's checkout directory in a text by `/repo`. */
export function repoRelative(text: string): string {
  return text.replace(/(?:\/[^\s/:'"`]+)*\/cody-j-[a-z0-9]+-\d+-a\d+\/repo(?![\w-])/g, "/repo");
}

/**
 * Prints the final table. Diffs are saved under `<CODY_DIR>/diffs/<jobId>/owner/name.diff` on the
 * embedded stack (shown as paths); elsewhere the presigned link is shown. Without `wide`, the table
 * fits {@link TABLE_COLUMNS}: the diff paths go in one line under it, reasons are cut to one line
 * (the full text: `cody status <job> <repo>`).
 */
export async function printFinalTable(world: CliEnvironment, job: Job, rows: readonly RepoRow[], opts: TableOptions = {}): Promise<void> {
  const local = Boolean(world.config.s3Endpoint);
  const wide = opts.wide === true;
  // Campaign columns (issue 12) once any PR has been refreshed.
  const tracked = rows.some((r) => r.pr);
  const header = wide
    ? ["REPOSITORY", "STATUS", "FILES", "+/−", "DIFF", ...(tracked ? ["PR STATE", "CHECKS", "REVIEW"] : []), "PR / REASON"]
    : ["REPOSITORY", "STATUS", "CHANGES", ...(tracked ? ["PR STATE"] : []), "PR / REASON"];
  const table: string[][] = [header];
  let diffDir = "";
  let cutReasons = false;
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
          diffDir = relative(process.cwd(), join(world.env.CODY_DIR ?? ".cody", "diffs", job.jobId));
        }
      } else if (wide) {
        diff = await world.artifacts.link(r.diffKey);
      }
    }
    const reason = r.prUrl ?? (r.error ? (wide ? repoRelative(r.error).replace(/\s*\n\s*/g, " ⏎ ") : oneLineReason(r.error)) : "");
    if (r.error && !r.prUrl && reason !== r.error) cutReasons = true;
    if (wide) {
      table.push([
        r.repositoryName,
        r.status,
        r.diffStats ? String(r.diffStats.files) : "",
        r.diffStats ? `+${r.diffStats.additions} −${r.diffStats.deletions}` : "",
        diff,
        ...(tracked ? prColumns(r) : []),
        reason,
      ]);
    } else {
      const s = r.diffStats;
      const changes = s ? `${s.files} file${s.files === 1 ? "" : "s"} +${s.additions} −${s.deletions}` : "";
      table.push([r.repositoryName, r.status, changes, ...(tracked ? [compactPr(r)] : []), reason]);
    }
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  let lines = table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd());
  if (!wide) {
    lines = lines.map((l) => {
      if ([...l].length <= TABLE_COLUMNS) return l;
      cutReasons = true;
      return `${[...l].slice(0, TABLE_COLUMNS - 1).join("")}…`;
    });
  }
  const c = job.counters;
  const seconds = (from: string | Date, to: string) => Math.max(0, Math.round((Date.parse(to) - new Date(from).getTime()) / 1000));
  let took = "";
  if (job.finishedAt) {
    took = opts.since
      ? ` in ${seconds(opts.since, job.finishedAt)} s (the job: ${seconds(job.createdAt, job.finishedAt)} s since it was created)`
      : ` in ${seconds(job.createdAt, job.finishedAt)} s`;
  }
  const notes: string[] = [];
  if (!wide && diffDir) notes.push(`diffs: ${diffDir}/<owner>/<name>.diff`);
  if (!wide && cutReasons) notes.push(`cut to fit: cody status ${job.jobId} <repository> for a full reason, --wide for every column`);
  process.stdout.write(
    `\nJob ${job.jobId} ${job.status}${took}: ${job.name}\n` +
      `${lines.join("\n")}\n` +
      `\n${c.completed} completed · ${c.noChanges} no changes · ${c.failed} failed · ${c.cancelled} cancelled · ${c.total} total\n` +
      (spendLine(job) ? `${spendLine(job)}\n` : "") +
      (job.systematic ?? []).map((s) => `systematic failure: "${s.check}" fails with "${s.firstLine}" on ${s.repositories.length} PRs (not healed)\n`).join("") +
      (job.campaign ? `${burndownText(job.campaign)}\n` : "") +
      notes.map((n) => `${n}\n`).join(""),
  );
}

/** `cody status <job> <repo>`: one repository in full (status, step, changes, diff, PR, the whole reason). */
export async function printRepoDetail(world: CliEnvironment, job: Job, row: RepoRow): Promise<void> {
  const lines = [`${row.repositoryName} in job ${job.jobId} (${job.name}): ${row.status}`];
  if (row.diffStats) lines.push(`changes: ${row.diffStats.files} file${row.diffStats.files === 1 ? "" : "s"}, +${row.diffStats.additions} −${row.diffStats.deletions}`);
  if (row.diffKey) {
    if (world.config.s3Endpoint) {
      const body = await world.artifacts.get(row.diffKey);
      if (body !== undefined) {
        const path = join(world.env.CODY_DIR ?? ".cody", row.diffKey);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, body);
        lines.push(`diff: ${relative(process.cwd(), path)}`);
      }
    } else {
      lines.push(`diff: ${await world.artifacts.link(row.diffKey)}`);
    }
  }
  if (row.prUrl) lines.push(`pull request: ${row.prUrl}${row.pr ? ` (${compactPr(row)})` : ""}`);
  if (row.error) lines.push(`reason:\n${repoRelative(row.error).split("\n").map((l) => `  ${l}`).join("\n")}`);
  lines.push(`runner logs: cody logs ${job.jobId} ${row.repositoryName}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * `cody status <job> <repo>`: the row of `repo` (any case) in full, or as JSON; returns the row.
 * Throws a UsageError (exit 2) naming a few of the job's repositories when it is not one of them.
 */
export async function printRepoStatus(world: CliEnvironment, job: Job, rows: readonly RepoRow[], repo: string, json: boolean): Promise<RepoRow> {
  const row = rows.find((r) => r.repositoryName.toLowerCase() === repo.toLowerCase());
  if (!row) {
    const some = `${rows.slice(0, 5).map((r) => r.repositoryName).join(", ")}${rows.length > 5 ? ", …" : ""}`;
    throw new UsageError(`${repo} is not in job ${job.jobId} (${rows.length} repositor${rows.length === 1 ? "y" : "ies"}: ${some})`, false);
  }
  if (json) process.stdout.write(`${JSON.stringify(row, null, 2)}\n`);
  else await printRepoDetail(world, job, row);
  return row;
}

/** `open · failing: lint · approved` in one cell. */
function compactPr(r: RepoRow): string {
  return r.pr ? prColumns(r).filter(Boolean).join(" · ") : "";
}

/** PR STATE, CHECKS (with the failing names), REVIEW of a tracked row. */
function prColumns(r: RepoRow): string[] {
  if (!r.pr) return ["", "", ""];
  const checks = r.pr.checks === "failing" && r.pr.failingChecks.length ? `failing: ${r.pr.failingChecks.join(",")}` : r.pr.checks === "none" ? "no checks" : r.pr.checks;
  return [`${r.pr.state}${r.pr.conflicting ? " (conflict)" : ""}${editedByOthers(r) ? " (edited by others)" : ""}`, checks, r.pr.review.replace("_", " ")];
}
