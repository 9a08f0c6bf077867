/**
 * `cody import` (issue 24): rebuilds a job and its repository rows from the pull requests of a
 * branch on GitHub, so `status`, `refresh`, `merge` and `close` work again after the local store
 * is gone, or for PRs another Cody installation opened. The PR body's marker
 * (`<!-- cody-batch:job=… -->`, runner/pull-request.ts) names the job.
 */
import { statusOf, type GitHubClient } from "../github/index.ts";
import { branchFor, newJobRows, type Job, type RepoRow, type Store } from "../jobs/index.ts";

/** One PR of the branch as the import reads it. */
export type FoundPr = { repository: string; number: number; url: string; title: string; body: string; state: "open" | "closed"; merged: boolean };

/** What to import: a branch (or `cody/<jobId>`), optionally where to look, and who asks. */
export type ImportInput = {
  /** The branch to look for; default `cody/<jobId>`. */
  branch?: string;
  jobId?: string;
  /** Repositories to look in; absent → GitHub's issue search (`is:pr head:BRANCH`). */
  repositories?: readonly string[];
  by: string;
};

/** The imported job and rows with notes for people, or why nothing was written. */
export type ImportOutcome =
  | { kind: "imported"; job: Job; rows: RepoRow[]; notes: string[] }
  | { kind: "refused"; reason: string };

/** The job a PR body's `job=` marker names (the job that last wrote it). */
function markerJob(body: string): string | undefined {
  return /<!-- cody-batch:job=(j-[a-z0-9]+) -->/.exec(body)?.[1];
}

/**
 * Finds the PRs of `branch`: in each of `repositories`, or through the issue search. Per
 * repository the open PR wins, else the newest. Throws on GitHub errors other than a missing
 * repository (reported in `notes`).
 */
export async function findBranchPrs(
  octokitFor: (repository: string) => GitHubClient,
  input: { branch: string; repositories?: readonly string[] },
  signal?: AbortSignal,
): Promise<{ prs: FoundPr[]; notes: string[] }> {
  const notes: string[] = [];
  let repositories = input.repositories ? [...input.repositories] : undefined;
  if (!repositories) {
    const r = await octokitFor("*").request("GET /search/issues", { q: `is:pr head:${input.branch}`, per_page: 100, request: { signal } });
    const items = (r.data as { items: Array<{ repository_url: string }> }).items;
    repositories = [...new Set(items.map((i) => i.repository_url.split("/repos/")[1] ?? "").filter((n) => n.includes("/")))];
  }
  const prs: FoundPr[] = [];
  for (const repository of repositories) {
    const [owner = "", repo = ""] = repository.split("/");
    let list: Array<{ number: number; html_url: string; title: string; body?: string | null; state: "open" | "closed"; merged_at?: string | null }>;
    try {
      list = (await octokitFor(repository).rest.pulls.list({ owner, repo, head: `${owner}:${input.branch}`, state: "all", per_page: 100, request: { signal } })).data as typeof list;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      notes.push(`${repository}: not found (or no access)`);
      continue;
    }
    const pick = list.find((p) => p.state === "open") ?? [...list].sort((a, b) => b.number - a.number)[0];
    if (!pick) continue;
    prs.push({ repository, number: pick.number, url: pick.html_url, title: pick.title, body: pick.body ?? "", state: pick.state, merged: Boolean(pick.merged_at) });
  }
  return { prs, notes };
}

/** The change a PR body describes: the script's code fence, else the quoted instructions. */
function changeOf(body: string): Pick<Job, "type" | "script" | "prompt"> {
  const script = /### Script\n(`{3,})sh\n([\s\S]*?)\n\1/.exec(body)?.[2];
  if (script !== undefined) return { type: "script", script };
  const quoted = /### Instructions\n((?:> .*(?:\n|$))+)/.exec(body)?.[1];
  if (quoted) return { type: "code-pattern-update", prompt: quoted.split("\n").map((l) => l.replace(/^> ?/, "")).join("\n").trim() };
  return { type: "script", script: "" };
}

/**
 * Builds the job (COMPLETED, one row per repository with a PR on the branch, each COMPLETED with
 * its PR) and writes it. Refused when no PR carries Cody's marker, or the job is in the store.
 */
export async function importJob(
  deps: { store: Pick<Store, "getJob" | "createJob">; octokitFor: (repository: string) => GitHubClient; now?: () => Date },
  input: ImportInput,
  signal?: AbortSignal,
): Promise<ImportOutcome> {
  const branch = input.branch ?? (input.jobId ? branchFor(input.jobId) : undefined);
  if (!branch) return { kind: "refused", reason: "import needs a job id or --branch NAME" };
  const { prs, notes } = await findBranchPrs(deps.octokitFor, { branch, ...(input.repositories ? { repositories: input.repositories } : {}) }, signal);
  const marked = prs.filter((p) => markerJob(p.body));
  if (marked.length === 0) return { kind: "refused", reason: `no pull request of branch ${branch} carries Cody Batch's job marker${prs.length ? ` (${prs.length} without it)` : ""}; nothing imported` };
  const counts = new Map<string, number>();
  for (const p of marked) counts.set(markerJob(p.body)!, (counts.get(markerJob(p.body)!) ?? 0) + 1);
  const jobId = input.jobId ?? [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  if (await deps.store.getJob(jobId, signal)) return { kind: "refused", reason: `job ${jobId} is in the store already; nothing imported` };
  for (const p of prs.filter((x) => !markerJob(x.body))) notes.push(`${p.repository}#${p.number}: no Cody Batch marker; imported as part of ${jobId}`);
  const now = deps.now?.() ?? new Date();
  const first = marked.find((p) => markerJob(p.body) === jobId) ?? marked[0]!;
  const change = changeOf(first.body);
  const built = newJobRows(
    jobId,
    {
      name: first.title,
      ...change,
      repositories: prs.map((p) => p.repository),
      createPullRequests: true,
      ...(branch !== branchFor(jobId) ? { branch } : {}),
      createdBy: `${input.by} (imported)`,
    },
    now,
  );
  const at = now.toISOString();
  const rows: RepoRow[] = built.repos.map((r, i) => ({ ...r, status: "COMPLETED", finishedAt: at, branch, prNumber: prs[i]!.number, prUrl: prs[i]!.url }));
  const job: Job = {
    ...built.job,
    status: "COMPLETED",
    finishedAt: at,
    counters: { ...built.job.counters, completed: rows.length },
    countedIndexes: new Set(rows.map((r) => r.index)),
    totals: { ...built.job.totals!, prsOpened: rows.length },
  };
  const created = await deps.store.createJob(job, rows, signal);
  if (created.kind === "exists") return { kind: "refused", reason: `job ${jobId} is in the store already; nothing imported` };
  return { kind: "imported", job, rows, notes };
}
