/** A commit's checks state (issue 25): no check run and no status at all is `none`, never passing. Pure. */
import { describe, expect, it } from "vitest";
import { checkRunsState, combineChecks, combinedStatusState } from "../github/index.ts";
import { mergeRefusal } from "./campaign-merge.ts";
import type { PullRequestStatus } from "../jobs/index.ts";

describe("checks state none", () => {
  it("is none without check runs and statuses, and the other state wins when only one kind exists", () => {
    const runs = checkRunsState({ total_count: 0, check_runs: [] });
    const statuses = combinedStatusState({ state: "pending", total_count: 0, statuses: [] });
    expect(runs.checks).toBe("none");
    expect(statuses.checks).toBe("none");
    expect(combineChecks(runs, statuses).checks).toBe("none");
    expect(combineChecks(checkRunsState({ total_count: 1, check_runs: [{ name: "ci", status: "completed", conclusion: "success" }] }), statuses).checks).toBe("passing");
    expect(combineChecks(runs, combinedStatusState({ state: "pending", total_count: 1, statuses: [{ context: "ci", state: "pending" }] })).checks).toBe("pending");
  });

  it("keeps merge green from merging a PR without checks unless allowed (force merges anyway)", () => {
    const pr: PullRequestStatus = { number: 1, state: "open", conflicting: false, checks: "none", failingChecks: [], review: "approved", headSha: "h", baseRef: "main", refreshedAt: "t" };
    expect(mergeRefusal(pr, false)).toEqual({ kind: "skipped", reason: "no checks ran; merge with --allow-no-checks" });
    expect(mergeRefusal(pr, false, true)).toBeUndefined();
    expect(mergeRefusal(pr, true)).toBeUndefined();
  });
});
