/**
 * Test support: campaigns seeded through the real store and artifacts (dynalite and s3rver over
 * HTTP), for the job page's tests, its browser test and its benchmark. A Claude job of `n`
 * repositories, either mid-way (some ended, some running, some pending) or done (every
 * repository ended, PRs tracked: merged, open with checks and reviews, closed).
 */
import type { Artifacts } from "../../core/jobs/index.ts";
import { campaignSummary, diffKeyFor, newJobRows, transcriptKeyFor, type Job, type PullRequestStatus, type RepoRow } from "../../core/jobs/index.ts";
import type { Store } from "../../core/jobs/index.ts";

/** A small diff of one repository. */
export function sampleDiff(repo: string, extra = ""): string {
  return [
    "diff --git a/src/http.ts b/src/http.ts",
    "index 1111111..2222222 100644",
    "--- a/src/http.ts",
    "+++ b/src/http.ts",
    "@@ -1,4 +1,4 @@",
    ` // ${repo}: HTTP helpers`,
    "-export async function fetchJson(url: string) {",
    "+export async function getJson(url: string) {",
    '   const r = await fetch(url, { headers: { accept: "application/json" } });',
    "   return r.json();",
    ...(extra ? [`+${extra}`] : []),
    "",
  ].join("\n");
}

/** A small transcript of one repository (the runner's format, runner/agent/transcript.ts). */
export function sampleTranscript(repo: string, summary: string): string {
  return JSON.stringify({
    version: 1,
    repository: repo,
    model: "claude-test",
    system: "You change code.",
    tools: ["str_replace_based_edit_tool"],
    messages: [
      { role: "user", content: "Rename fetchJson to getJson." },
      { role: "assistant", content: [{ type: "text", text: "Looking at the file." }, { type: "tool_use", id: "t1", name: "str_replace_based_edit_tool", input: { command: "view", path: "src/http.ts" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "export async function fetchJson(url) {}" }] },
      { role: "assistant", content: [{ type: "text", text: summary }] },
    ],
    turns: [
      { turn: 1, stopReason: "tool_use", usage: { inputTokens: 900, outputTokens: 40, cacheReadTokens: 0, cacheWriteTokens: 0 }, ms: 10, retries: [], toolCalls: [{ id: "t1", name: "str_replace_based_edit_tool", ok: true, ms: 1, bytes: 40 }] },
      { turn: 2, stopReason: "end_turn", usage: { inputTokens: 1000, outputTokens: 30, cacheReadTokens: 0, cacheWriteTokens: 0 }, ms: 10, retries: [], toolCalls: [] },
    ],
    usage: { inputTokens: 1900, outputTokens: 70, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costUsd: 0.0068,
    outcome: { kind: "completed", summary },
  });
}

function pr(number: number, state: PullRequestStatus["state"], checks: PullRequestStatus["checks"], review: PullRequestStatus["review"], conflicting = false): PullRequestStatus {
  return { number, state, conflicting, checks, failingChecks: checks === "failing" ? ["ci / test"] : [], review, headSha: "abc", baseRef: "main", refreshedAt: new Date().toISOString() };
}

/** What a seeded campaign needs. */
export type SeedDeps = { store: Store; artifacts: Pick<Artifacts, "put"> };

/**
 * Seeds a Claude campaign of `n` repositories (`acme/service-00` …) under `jobId` and returns
 * the job as stored. `phase` "midway": 60 % ended, 15 % running, the rest pending; "done":
 * every repository ended and the PRs refreshed. `hostile`: texts to put in the name, a reason,
 * a summary and a diff instead of the plain ones.
 */
export async function seedCampaign(
  deps: SeedDeps,
  opts: { jobId: string; n: number; phase: "midway" | "done"; expiresAt?: number; noArtifacts?: boolean; hostile?: { name?: string; reason?: string; summary?: string; diffLine?: string; repo?: string } },
): Promise<Job> {
  const repositories = Array.from({ length: opts.n }, (_, i) => (i === 1 && opts.hostile?.repo ? opts.hostile.repo : `acme/service-${String(i).padStart(2, "0")}`));
  const made = newJobRows(
    opts.jobId,
    { type: "code-pattern-update", name: opts.hostile?.name ?? "Rename fetchJson to getJson", prompt: "Rename the deprecated fetchJson helper to getJson everywhere.", repositories, createPullRequests: true, createdBy: "U0DANA" },
    new Date(),
  );
  const job = opts.expiresAt !== undefined ? { ...made.job, expiresAt: opts.expiresAt } : made.job;
  await deps.store.createJob(job, made.repos);
  await deps.store.markJobRunning(job.jobId);
  const ended = opts.phase === "done" ? opts.n : Math.round(opts.n * 0.6);
  const running = opts.phase === "done" ? 0 : Math.round(opts.n * 0.15);
  for (const row of made.repos) {
    const i = row.index;
    if (i < ended) await endRow(deps, job, row, i, opts);
    else if (i < ended + running) {
      const c = await deps.store.claimRepo(job.jobId, row.repositoryName, { now: new Date(), staleBefore: new Date(0) });
      if (c.kind === "claimed") await deps.store.moveRepo(c.row, "CLONING", "RUNNING", { step: "change" });
    }
  }
  if (opts.phase === "done") {
    await deps.store.finalizeIfDone(job.jobId, new Date());
    const rows = await deps.store.listRepos(job.jobId);
    await deps.store.setJobCampaign(job.jobId, campaignSummary(rows, new Date().toISOString()));
  }
  return (await deps.store.getJob(job.jobId))!;
}

async function endRow(deps: SeedDeps, job: Job, row: RepoRow, i: number, opts: Parameters<typeof seedCampaign>[1]): Promise<void> {
  const kind = i % 10 === 3 || i % 10 === 7 ? "FAILED" : i % 10 === 5 ? "NO_CHANGES" : "COMPLETED";
  const usage = { inputTokens: 1900, outputTokens: 70, cacheReadTokens: 0, cacheWriteTokens: 0 };
  const transcriptKey = transcriptKeyFor(job.jobId, row.repositoryName);
  const hostile = i === 1 ? opts.hostile : undefined;
  const put = opts.noArtifacts ? async () => undefined : deps.artifacts.put;
  if (kind === "FAILED") {
    await put(transcriptKey, sampleTranscript(row.repositoryName, "I could not finish."), "application/json");
    await deps.store.finishRepo(row, ["PENDING"], "FAILED", { error: hostile?.reason ?? (i % 10 === 3 ? "verify failed: npm test exited with code 1" : "Claude stopped: max_tokens"), transcriptKey, usage, costUsd: 0.0068 });
    return;
  }
  if (kind === "NO_CHANGES") {
    await deps.store.finishRepo(row, ["PENDING"], "NO_CHANGES", { summary: "Nothing calls fetchJson here.", usage, costUsd: 0.0068 });
    return;
  }
  const summary = hostile?.summary ?? "Renamed fetchJson to getJson in src/http.ts.";
  const diffKey = diffKeyFor(job.jobId, row.repositoryName);
  await put(diffKey, sampleDiff(row.repositoryName, hostile?.diffLine), "text/plain");
  await put(transcriptKey, sampleTranscript(row.repositoryName, summary), "application/json");
  const number = i + 1;
  await deps.store.finishRepo(row, ["PENDING"], "COMPLETED", {
    summary,
    diffKey,
    transcriptKey,
    diffStats: { files: 1, additions: 1 + (i % 3), deletions: 1 },
    prUrl: `https://github.com/${row.repositoryName}/pull/${number}`,
    prNumber: number,
    usage,
    costUsd: 0.0068,
  });
  if (opts.phase === "done") {
    const m = i % 10;
    const status = m === 0 || m === 1 || m === 2 ? pr(number, "merged", "passing", "approved") : m === 4 ? pr(number, "open", "failing", "changes_requested", true) : m === 6 ? pr(number, "open", "passing", "approved") : m === 8 ? pr(number, "closed", "passing", "review_required") : pr(number, "open", "pending", "review_required");
    await deps.store.setRepoPr(job.jobId, row.repositoryName, status);
  }
}
