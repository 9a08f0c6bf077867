/**
 * The branch head bookkeeping of a push (issue 24): people push fixes to Cody's branches, and a
 * later run (a retry, `cody update`, a new job on the same `--branch`) must not lose them.
 *
 * Before a push the runner reads the remote branch. Commits newer than Cody's own last commit on
 * it are "by others": Cody's own are the commit it last pushed (recorded on the row as
 * `pushedSha` by {@link recordPushedHead}, which other Cody code that pushes to the branch calls
 * too) and every commit whose message carries Cody's job trailer (`Cody Batch job j-…`, so a new
 * job or another installation recognises them). What happens with others' commits is the job's
 * `onConflict`: `keep` (default) replays them on top of Cody's new commit and pushes only when
 * every one applies, `skip` leaves the repository alone, `replace` overwrites them.
 */
import type { OnConflict, RepoRow } from "../core/jobs/index.ts";
import type { Workspace } from "./workspace.ts";

/** True when a commit message is one of Cody's (it ends with the job trailer). */
export function isCodyCommit(message: string): boolean {
  return /(^|\n)Cody Batch job j-[a-z0-9]+\s*$/.test(message);
}

/** The remote branch as a push finds it: its head, and others' commits on it, oldest first. */
export type BranchState = { remoteHead?: string; others: string[] };

/**
 * Reads `branch` of `url`: its head and the commits by others on it (newest-first walk from the
 * head down to Cody's own newest commit, reported oldest first). `own` are shas known to be
 * Cody's (the row's pushedSha and commitSha). `base` is the base branch: commits reachable from it
 * are never others'. The branch's objects land in the runner's git directory (`refs/cody/theirs`).
 */
export async function readBranch(
  ws: Pick<Workspace, "run" | "remoteBranchSha">,
  input: { url: string; branch: string; base: string; own: readonly (string | undefined)[] },
  signal: AbortSignal,
): Promise<BranchState> {
  const remoteHead = await ws.remoteBranchSha(input.url, input.branch, signal);
  if (!remoteHead) return { others: [] };
  const own = new Set(input.own.filter((s): s is string => Boolean(s)));
  if (own.has(remoteHead)) return { remoteHead, others: [] };
  const refspec = `+refs/heads/${input.branch}:refs/cody/theirs`;
  try {
    // Only the branch's own commits: those reachable from the base stay out.
    await ws.run(["fetch", "--no-tags", "--quiet", `--shallow-exclude=${input.base}`, "origin", refspec], signal, input.url);
  } catch (err) {
    if (signal.aborted) throw err;
    await ws.run(["fetch", "--no-tags", "--quiet", "--depth=100", "origin", refspec], signal, input.url);
  }
  const log = await ws.run(["log", "--topo-order", "--format=%H%x1f%B%x1e", "refs/cody/theirs", "^HEAD"], signal);
  const others: string[] = [];
  for (const entry of log.split("\x1e")) {
    const [sha = "", message = ""] = entry.replace(/^\n/, "").split("\x1f");
    if (!/^[0-9a-f]{40}$/.test(sha)) continue;
    if (own.has(sha) || isCodyCommit(message.trim())) break;
    others.push(sha);
  }
  return { remoteHead, others: others.reverse() };
}

/** What a push should do about others' commits. */
export type BranchDecision =
  | { kind: "push"; lease?: string; kept: number }
  | { kind: "skip"; reason: string }
  | { kind: "refuse"; reason: string };

/** Words for "N commits by others". */
function byOthers(n: number): string {
  return `the branch has ${n} commit${n === 1 ? "" : "s"} by others`;
}

/**
 * Decides (and for `keep`, prepares) the push of HEAD over `state`: nothing by others → push
 * (replacing Cody's own earlier commit); `replace` → push over theirs; `skip` → leave it; `keep`
 * → cherry-pick their commits onto HEAD, oldest first, and push with a lease on the head read, or
 * refuse when one does not apply (HEAD is reset to Cody's commit; nothing is pushed).
 */
export async function settleBranch(
  ws: Pick<Workspace, "run">,
  state: BranchState,
  onConflict: OnConflict | undefined,
  url: string,
  signal: AbortSignal,
): Promise<BranchDecision> {
  const lease = state.remoteHead;
  const n = state.others.length;
  if (n === 0) return { kind: "push", ...(lease ? { lease } : {}), kept: 0 };
  const mode = onConflict ?? "keep";
  if (mode === "replace") return { kind: "push", ...(lease ? { lease } : {}), kept: 0 };
  if (mode === "skip") return { kind: "skip", reason: `skipped: ${byOthers(n)} (--on-conflict skip)` };
  const ours = (await ws.run(["rev-parse", "HEAD"], signal)).trim();
  try {
    for (const sha of state.others) {
      const parents = (await ws.run(["rev-list", "--parents", "-n", "1", sha], signal)).trim().split(" ").length - 1;
      await ws.run(["cherry-pick", "--keep-redundant-commits", "--allow-empty", ...(parents > 1 ? ["-m", "1"] : []), sha], signal, url);
    }
  } catch (err) {
    if (signal.aborted) throw err;
    await ws.run(["cherry-pick", "--abort"], signal).catch(() => undefined);
    await ws.run(["reset", "--hard", "-q", ours], signal).catch(() => undefined);
    return { kind: "refuse", reason: `${byOthers(n)}; rerun with --on-conflict replace to overwrite` };
  }
  return { kind: "push", ...(lease ? { lease } : {}), kept: n };
}

/**
 * Records on the row the commit Cody last pushed to its branch (its own newest commit, not
 * others' commits kept on top): what the next push compares the remote with. Any Cody code that
 * pushes a commit of its own to the branch (e.g. a healing commit) calls this after pushing.
 */
export async function recordPushedHead(
  store: { setRepoPushedHead(jobId: string, repositoryName: string, sha: string, signal?: AbortSignal): Promise<void> },
  row: Pick<RepoRow, "jobId" | "repositoryName">,
  sha: string,
  signal?: AbortSignal,
): Promise<void> {
  await store.setRepoPushedHead(row.jobId, row.repositoryName, sha, signal);
}
