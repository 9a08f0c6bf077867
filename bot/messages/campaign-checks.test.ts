/**
 * What people read about PRs without checks and branches edited by others (issues 24 and 25):
 * the burndown line, the Merge green confirmation and a repository's thread line. Pure.
 */
import { describe, expect, it } from "vitest";
import { campaignSummary, newJobRows, type Job, type PullRequestStatus, type RepoRow } from "../../core/jobs/index.ts";
import { burndownText } from "./campaign.ts";
import { replyLine } from "./reply.ts";
import { campaignButtons, mergeConfirmText } from "./root.ts";

const pr = (over: Partial<PullRequestStatus>): PullRequestStatus => ({ number: 1, state: "open", conflicting: false, checks: "passing", failingChecks: [], review: "approved", headSha: "h1", baseRef: "main", refreshedAt: "t", ...over });

describe("no checks is not passing", () => {
  it("counts PRs without checks apart in the burndown, and PRs whose head is not Cody's last push as edited by others", () => {
    const s = campaignSummary([
      { prUrl: "u", pr: pr({}), pushedSha: "h1" },
      { prUrl: "u", pr: pr({ checks: "none" }), pushedSha: "h1" },
      { prUrl: "u", pr: pr({ checks: "none", headSha: "h9" }), pushedSha: "h1" },
    ]);
    expect(s).toMatchObject({ open: 3, passing: 1, noChecks: 2, editedByOthers: 1 });
    expect(burndownText(s)).toBe("Campaign: 0 merged · 3 open (1 passing, 0 failing, 0 pending, 2 no checks · 0 awaiting review · 1 edited by others) · 0 closed");
  });

  it("says in the Merge green confirmation how many PRs without checks would merge or stay open", () => {
    const { job } = newJobRows("j-confirm001", { name: "x", type: "script", script: "true", repositories: ["o/a"], createPullRequests: true, createdBy: "U" }, new Date());
    const ended: Job = { ...job, status: "COMPLETED", finishedAt: "t", totals: { ...job.totals!, prsOpened: 3 }, campaign: { prs: 3, merged: 0, closed: 0, open: 3, passing: 1, failing: 0, pending: 0, noChecks: 2, awaitingReview: 0, approved: 3, conflicting: 0 } };
    expect(mergeConfirmText(ended)).toContain("2 open PRs without any check stay open (no checks ran).");
    expect(mergeConfirmText({ ...ended, allowNoChecks: true })).toContain("2 open PRs without any check would merge too (allowNoChecks).");
    const merge = campaignButtons(ended).find((b) => (b as { action_id?: string }).action_id === "campaign_merge") as { confirm: { text: { text: string } } };
    expect(merge.confirm.text.text).toContain("2 open PRs without any check stay open");
  });

  it("shows a kept foreign commit and a skip reason on the repository's thread line", () => {
    const row = (over: Partial<RepoRow>): RepoRow => ({ jobId: "j-x", repositoryName: "o/a", index: 0, status: "COMPLETED", attempt: 1, expiresAt: 0, ...over });
    expect(replyLine({ repo: row({ editedByOthers: 2 }) })).toContain("edited by others (2 commits kept)");
    expect(replyLine({ repo: row({ status: "NO_CHANGES", error: "skipped: the branch has 1 commit by others (--on-conflict skip)" }) })).toContain("skipped: the branch has 1 commit by others");
  });
});
