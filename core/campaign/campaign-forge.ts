/**
 * The GitHub writes of the campaign actions (merge, close, comment, delete the branch) behind one
 * port, with GitHub's refusals translated at the edge into per-repository reasons: 405 "not
 * mergeable" (branch protection, merge method, conflicts), 409 "head moved", 422 on a merged PR.
 */
import { statusOf, type GitHubClient } from "../github/index.ts";

export type MergeMethod = "merge" | "squash" | "rebase";

/** A refusal that is an expected outcome for one repository. */
export type Refused = { kind: "refused"; reason: string };

/** GitHub as the campaign actions use it. Never throws for GitHub's answers or outages: they are per-repository refusals. */
export type CampaignForge = {
  /** Merges PR `number` if its head is still `sha`. */
  merge(repository: string, number: number, opts: { method: MergeMethod; sha: string }, signal?: AbortSignal): Promise<{ kind: "merged"; sha: string } | Refused>;
  /** Closes PR `number` without merging. */
  close(repository: string, number: number, signal?: AbortSignal): Promise<{ kind: "closed" } | Refused>;
  comment(repository: string, number: number, body: string, signal?: AbortSignal): Promise<{ kind: "commented" } | Refused>;
  /** Deletes `branch`; `missing` when it is gone already. */
  deleteBranch(repository: string, branch: string, signal?: AbortSignal): Promise<{ kind: "deleted" | "missing" } | Refused>;
};

/** The CampaignForge over Octokit clients (one per owner, see core/github/pr-tracking.ts octokitPerOwner). */
export function newCampaignForge(octokitFor: (repository: string) => GitHubClient): CampaignForge {
  const split = (repository: string) => {
    const [owner = "", repo = ""] = repository.split("/");
    return { owner, repo };
  };
  return {
    async merge(repository, number, { method, sha }, signal) {
      // No retries: plugin-retry would repeat a 405/409, which GitHub answers the same way each time.
      try {
        const r = await octokitFor(repository).rest.pulls.merge({ ...split(repository), pull_number: number, merge_method: method, sha, request: { signal, retries: 0 } });
        return { kind: "merged", sha: r.data.sha };
      } catch (err) {
        const status = statusOf(err);
        if (status === 405) return { kind: "refused", reason: `GitHub refused the merge: ${messageOf(err)}` };
        if (status === 409) return { kind: "refused", reason: "the PR's head moved since the last refresh; refresh and merge again" };
        return refusal(err, "merge");
      }
    },
    async close(repository, number, signal) {
      try {
        await octokitFor(repository).rest.pulls.update({ ...split(repository), pull_number: number, state: "closed", request: { signal } });
        return { kind: "closed" };
      } catch (err) {
        if (statusOf(err) === 422) return { kind: "refused", reason: "already merged; a merged PR cannot be closed" };
        return refusal(err, "close");
      }
    },
    async comment(repository, number, body, signal) {
      try {
        await octokitFor(repository).rest.issues.createComment({ ...split(repository), issue_number: number, body, request: { signal } });
        return { kind: "commented" };
      } catch (err) {
        return refusal(err, "comment on");
      }
    },
    async deleteBranch(repository, branch, signal) {
      try {
        await octokitFor(repository).rest.git.deleteRef({ ...split(repository), ref: `heads/${branch}`, request: { signal } });
        return { kind: "deleted" };
      } catch (err) {
        if (statusOf(err) === 422 || statusOf(err) === 404) return { kind: "missing" };
        return refusal(err, "delete the branch of");
      }
    },
  };
}

function messageOf(err: unknown): string {
  const data = (err as { response?: { data?: { message?: string } } }).response?.data;
  return (data?.message ?? (err as Error).message ?? "refused").slice(0, 300);
}

/**
 * Every failure is that repository's reason, never the whole action's: access and validation
 * answers say so; an outage (5xx after retries, no answer) says GitHub could not be reached.
 */
function refusal(err: unknown, what: string): Refused {
  const status = statusOf(err);
  if (status === 401 || status === 403 || status === 404) return { kind: "refused", reason: `no access to ${what} the PR (${status})` };
  if (status === 422) return { kind: "refused", reason: `GitHub refused to ${what} the PR: ${messageOf(err)}` };
  return { kind: "refused", reason: `GitHub did not answer the request to ${what} the PR (${status ?? "network error"}); try again` };
}
