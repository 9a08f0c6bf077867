/**
 * What failed on a pull request's head commit, in the checks' own words (issue 19, CI healing):
 * failed check runs (title, summary, text, annotations) and failed commit statuses
 * (description), read from GitHub; the context an agent gets to heal them; and the detection of
 * failures that are systematic (the same check failing with the same first error line on many of
 * a job's PRs), which are reported once instead of healed one by one.
 */
import type { GitHubClient } from "./github.ts";

/** One failed check of a commit. */
export type CheckFailure = {
  check: string;
  source: "check_run" | "status";
  title?: string;
  summary?: string;
  text?: string;
  description?: string;
  annotations: { path: string; line: number; level: string; message: string }[];
};

/** Reads the failed checks of `sha` in `repository`. Throws on access or network errors. */
export type FailureReader = (input: { repository: string; sha: string }, signal?: AbortSignal) => Promise<CheckFailure[]>;

const FAILED_CONCLUSIONS = new Set(["failure", "timed_out", "cancelled", "action_required"]);
/** Annotations read per failed run (one page). */
const MAX_ANNOTATIONS = 50;

/**
 * The FailureReader over Octokit: one GET of the check runs, one GET of the annotations of each
 * failed run that has some, one GET of the combined status.
 */
export function newFailureReader(octokitFor: (repository: string) => GitHubClient): FailureReader {
  return async ({ repository, sha }, signal) => {
    const octokit = octokitFor(repository);
    const [owner = "", repo = ""] = repository.split("/");
    const out: CheckFailure[] = [];
    type Run = { id: number; name: string; status: string; conclusion: string | null; output?: { title?: string | null; summary?: string | null; text?: string | null; annotations_count?: number } };
    const runs = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", { owner, repo, ref: sha, per_page: 100, request: { signal } });
    for (const run of (runs.data as { check_runs: Run[] }).check_runs) {
      if (run.status !== "completed" || !FAILED_CONCLUSIONS.has(run.conclusion ?? "")) continue;
      const f: CheckFailure = { check: run.name, source: "check_run", annotations: [] };
      if (run.output?.title) f.title = run.output.title;
      if (run.output?.summary) f.summary = run.output.summary;
      if (run.output?.text) f.text = run.output.text;
      if ((run.output?.annotations_count ?? 0) > 0) {
        const a = await octokit.request("GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", { owner, repo, check_run_id: run.id, per_page: MAX_ANNOTATIONS, request: { signal } });
        f.annotations = (a.data as { path: string; start_line: number; annotation_level: string; message: string }[]).map((x) => ({ path: x.path, line: x.start_line, level: x.annotation_level, message: x.message }));
      }
      out.push(f);
    }
    const status = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/status", { owner, repo, ref: sha, request: { signal } });
    for (const s of (status.data as { statuses: { context: string; state: string; description: string | null }[] }).statuses) {
      if (s.state !== "failure" && s.state !== "error") continue;
      out.push({ check: s.context, source: "status", ...(s.description ? { description: s.description } : {}), annotations: [] });
    }
    return out;
  };
}

/**
 * The first error line of a failure, as compared across PRs: the first annotation of level
 * failure (else any), else the first line of text/summary/title/description that mentions an
 * error or failure, else its first non-empty line. Whitespace collapsed, at most 200 characters.
 */
export function firstErrorLine(f: CheckFailure): string {
  const norm = (s: string) => s.replace(/\s+/g, " ").trim().slice(0, 200);
  const ann = f.annotations.find((a) => a.level === "failure") ?? f.annotations[0];
  if (ann) return norm(ann.message.split("\n").find((l) => l.trim()) ?? "");
  const lines = [f.text, f.summary, f.title, f.description].flatMap((t) => (t ?? "").split("\n")).map((l) => l.trim()).filter(Boolean);
  return norm(lines.find((l) => /error|fail|exception|✗|×/i.test(l)) ?? lines[0] ?? "");
}

/** The failures as the healing agent reads them, cut to `maxBytes` with a note. */
export function failureContext(failures: readonly CheckFailure[], maxBytes = 16_000): string {
  const parts = failures.map((f) => {
    const lines = [`## ${f.check} (${f.source === "check_run" ? "check run" : "commit status"})`];
    if (f.title) lines.push(`Title: ${f.title}`);
    if (f.description) lines.push(`Description: ${f.description}`);
    if (f.summary) lines.push(`Summary:\n${f.summary}`);
    if (f.text) lines.push(`Details:\n${f.text}`);
    for (const a of f.annotations) lines.push(`- ${a.path}:${a.line} [${a.level}] ${a.message}`);
    return lines.join("\n");
  });
  const all = parts.join("\n\n");
  const size = Buffer.byteLength(all);
  if (size <= maxBytes) return all;
  const cut = Buffer.from(all).subarray(0, maxBytes).toString("utf8").replace(/\uFFFD$/, "");
  return `${cut}\n[check output cut: ${size - Buffer.byteLength(cut)} of ${size} bytes not shown]`;
}

/** A failure shared by many PRs. */
export type Systematic = { check: string; firstLine: string; repositories: string[] };

/**
 * The failures that are systematic: the same check with the same first error line on at least
 * `share` (default 30 %) of the job's `prs` pull requests and on at least `min` (default 3) of
 * them. Sorted by how many PRs they hit, most first. Pure.
 */
export function systematicFailures(byRepository: ReadonlyMap<string, readonly CheckFailure[]>, prs: number, opts: { share?: number; min?: number } = {}): Systematic[] {
  const share = opts.share ?? 0.3;
  const min = opts.min ?? 3;
  const groups = new Map<string, Systematic>();
  for (const [repository, failures] of byRepository) {
    for (const f of failures) {
      const firstLine = firstErrorLine(f);
      const key = `${f.check}\u0000${firstLine}`;
      const g = groups.get(key) ?? { check: f.check, firstLine, repositories: [] };
      if (!g.repositories.includes(repository)) g.repositories.push(repository);
      groups.set(key, g);
    }
  }
  return [...groups.values()].filter((g) => g.repositories.length >= min && g.repositories.length >= share * prs).sort((a, b) => b.repositories.length - a.repositories.length);
}
