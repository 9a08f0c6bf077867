/**
 * `cody status <job> --timings`: where each repository's time went, slowest first — one column per
 * runner step (the row's `timings`, written by runner/step-timings.ts), a median line, and for the
 * slowest repository its biggest step.
 */
import type { RepoRow } from "../core/jobs/index.ts";
import { TIMED_STEPS } from "../runner/step-timings.ts";

/** The table as text: a header, one line per repository (slowest first), the medians, and a note on the slowest. */
export function timingsTable(rows: readonly RepoRow[]): string {
  const timed = rows.filter((r) => r.timings && Number.isFinite(r.timings.total));
  const untimed = rows.length - timed.length;
  if (timed.length === 0) return `no step timings recorded for this job${rows.length ? " (repositories still running, or ended by a runner older than step timings)" : ""}\n`;
  const sorted = [...timed].sort((a, b) => b.timings!.total! - a.timings!.total!);
  const steps = TIMED_STEPS.filter((s) => timed.some((r) => r.timings![s] !== undefined));
  const cols = ["total", ...steps];
  const name = (r: RepoRow) => (r.repositoryName.length > 40 ? `${r.repositoryName.slice(0, 39)}…` : r.repositoryName);
  const width = Math.max(10, ...sorted.map((r) => name(r).length));
  const cell = (v: number | undefined) => (v === undefined ? "—" : String(v)).padStart(8);
  const line = (first: string, status: string, values: (number | undefined)[]) => `${first.padEnd(width)}  ${status.padEnd(10)}${values.map(cell).join("")}`;
  const out = [line("repository", "status", []) + cols.map((c) => c.padStart(8)).join(""), ...sorted.map((r) => line(name(r), r.status, cols.map((c) => r.timings![c])))];
  if (sorted.length > 1) out.push(line("median", "", cols.map((c) => median(timed.map((r) => r.timings![c]).filter((v): v is number => v !== undefined)))));
  const slow = sorted[0]!;
  const [step, ms] = steps.map((s) => [s, slow.timings![s] ?? 0] as const).sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
  const total = slow.timings!.total!;
  if (step) out.push("", `slowest: ${slow.repositoryName}, ${total} ms; most of it in ${step} (${ms} ms, ${total > 0 ? Math.round((ms / total) * 100) : 0} %)`);
  if (untimed > 0) out.push(`${untimed} repositories have no timings yet (still running, or ended without a runner)`);
  out.push("times in ms; start = reading the job and claiming the row, commit = staging and committing, diff = the diff, its upload and the secret check, push = recording the push and pushing, cleanup = removing the checkout");
  return `${out.join("\n")}\n`;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
}
