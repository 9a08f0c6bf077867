/**
 * What people see, as golden files under __golden__/: a change to a message is a reviewed diff.
 * Update on purpose with `npx vitest run bot -u`.
 */
import { describe, expect, it } from "vitest";
import { newJobRows, type Job, type RepoRow } from "../../core/jobs/index.ts";
import { parseAllowlist } from "../../core/config/index.ts";
import { helpText, listText, statusText } from "./ephemeral.ts";
import { diffModal, jobModal } from "./modal.ts";
import { replyLine, replyMessages, type ReplyItem } from "./reply.ts";
import { rootMessage } from "./root.ts";
import { escapeCut, SLACK_LIMITS } from "./text.ts";
import { actionSummaryMessage } from "./campaign.ts";
import type { ActionSummary } from "../../core/campaign/index.ts";
import type { CampaignSummary } from "../../core/jobs/index.ts";

const T0 = new Date("2026-01-05T10:00:00Z");
const at = (min: number) => new Date(T0.getTime() + min * 60_000);

function job(over: Partial<Job> = {}): Job {
  const { job } = newJobRows("j-7f3k2abcde", {
    name: "Migrate fetchJson to http.get",
    type: "code-pattern-update",
    prompt: "Replace every call of fetchJson(url) with\nawait http.get(url).json() and update tests",
    repositories: Array.from({ length: 36 }, (_, i) => `acme/r${i}`),
    createPullRequests: true,
    verify: "npm test",
    createdBy: "UDANA",
    slack: { teamId: "T1", channel: "C1", threadTs: "1.1" },
  }, T0);
  return { ...job, ...over };
}

function row(over: Partial<RepoRow>): RepoRow {
  return { jobId: "j-7f3k2abcde", repositoryName: "acme/billing", index: 0, status: "COMPLETED", attempt: 1, expiresAt: 0, ...over };
}

const golden = (name: string) => `./__golden__/${name}.json`;
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

describe("golden messages", () => {
  const counters = { total: 36, completed: 19, noChanges: 3, failed: 2, cancelled: 0 };
  it.for([
    {
      name: "root-running",
      job: job({ status: "RUNNING", counters, totals: { prsOpened: 19, inputTokens: 400_000, outputTokens: 84_000, cacheReadTokens: 1_400_000, cacheWriteTokens: 100_000, costMicroUsd: 7_100_000 } }),
      now: at(6),
    },
    { name: "root-finished", job: job({ status: "FAILED", counters: { ...counters, completed: 31 }, finishedAt: at(14).toISOString() }), now: at(20) },
    // Typed by a person: escaped (never a mention), and cut after escaping (within 3000 characters).
    { name: "root-hostile", job: job({ name: "<!channel> deploy & <@U1> <https://evil.example|x>", prompt: "&".repeat(600) }), now: at(1) },
    { name: "root-cancelled", job: job({ status: "CANCELLED", cancelledBy: "UDANA", counters: { ...counters, cancelled: 12 }, finishedAt: at(7).toISOString() }), now: at(8) },
  ])("$name", async (tc) => {
    await expect(json(rootMessage(tc.job, tc.now))).toMatchFileSnapshot(golden(tc.name));
  });

  const campaignJob = (campaign: CampaignSummary) =>
    job({
      status: "FAILED",
      counters: { total: 20, completed: 18, noChanges: 0, failed: 2, cancelled: 0 },
      totals: { prsOpened: 18, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costMicroUsd: 0 },
      finishedAt: at(14).toISOString(),
      campaign,
    });
  it.for([
    { name: "root-campaign-midway", campaign: { prs: 18, merged: 6, closed: 1, open: 11, passing: 5, failing: 4, pending: 2, awaitingReview: 7, approved: 4, conflicting: 1, refreshedAt: at(60).toISOString() } },
    { name: "root-campaign-done", campaign: { prs: 18, merged: 15, closed: 3, open: 0, passing: 0, failing: 0, pending: 0, awaitingReview: 0, approved: 0, conflicting: 0, refreshedAt: at(600).toISOString() } },
  ])("$name", async (tc) => {
    await expect(json(rootMessage(campaignJob(tc.campaign), at(700)))).toMatchFileSnapshot(golden(tc.name));
  });

  it("action-summary-merge", async () => {
    const all: ActionSummary["all"] = [
      ...Array.from({ length: 5 }, (_, i) => ({ repository: `acme/green-${i}`, kind: "merged" })),
      { repository: "acme/red-1", kind: "skipped", reason: "checks failing: lint" },
      { repository: "acme/red-2", kind: "skipped", reason: "checks failing: lint" },
      { repository: "acme/new", kind: "skipped", reason: "waiting for review" },
      { repository: "acme/protected", kind: "failed", reason: "GitHub refused the merge: At least 1 approving review is required by reviewers with write access." },
    ];
    const summary: ActionSummary = { action: "merge", by: "UDANA", at: at(61).toISOString(), counts: { merged: 5, skipped: 3, failed: 1 }, results: all.filter((r) => r.reason), jobId: "j-7f3k2abcde", jobName: "Migrate", all };
    await expect(json(actionSummaryMessage(summary))).toMatchFileSnapshot(golden("action-summary-merge"));
  });

  const items: ReplyItem[] = [
    {
      repo: row({ diffKey: "diffs/x", diffStats: { files: 4, additions: 38, deletions: 21 }, prUrl: "https://github.com/acme/billing/pull/412", prNumber: 412, usage: { inputTokens: 55_000, outputTokens: 6_000, cacheReadTokens: 0, cacheWriteTokens: 0 } }),
      diffUrl: "https://bot.example.com/links/d", transcriptUrl: "https://bot.example.com/links/t",
    },
    { repo: row({ repositoryName: "acme/web-admin", index: 1, status: "NO_CHANGES" }) },
    { repo: row({ repositoryName: "acme/web-shop", index: 2, status: "FAILED", error: "verify failed: 2 tests failing in src/cart.test.ts", diffKey: "diffs/y" }), diffUrl: "https://bot.example.com/links/d2" },
    { repo: row({ repositoryName: "acme/legacy", index: 3, status: "CANCELLED", error: "cancelled by UDANA" }) },
  ];
  it.for(items.map((item) => ({ name: `reply-${item.repo.status.toLowerCase()}`, item })))("$name", async (tc) => {
    await expect(json(replyMessages([tc.item]))).toMatchFileSnapshot(golden(tc.name));
  });
  it("reply-grouped", async () => {
    await expect(json(replyMessages(items))).toMatchFileSnapshot(golden("reply-grouped"));
  });

  it("modal", async () => {
    const allow = parseAllowlist("acme/*,tools/cli");
    if (allow.kind !== "ok") throw new Error("allowlist");
    await expect(json(jobModal({ channel: "C1", teamId: "T1" }, allow.patterns))).toMatchFileSnapshot(golden("modal"));
  });

  it("modal-preview (after Preview targets: values kept, targets listed, digest in the metadata)", async () => {
    const allow = parseAllowlist("acme/*, tools/cli");
    if (allow.kind !== "ok") throw new Error(allow.reason);
    const values = { name: "Migrate fetchJson", type: "script", instructions: "sed -i s/fetchJson/getJson/ src/*.ts", repositories: "acme/billing\nsearch: fetchJson( org:acme", options: ["pr", "draft"] };
    const preview = {
      total: 13,
      selectors: [
        { source: "acme/billing", repositories: ["acme/billing"], notes: [] },
        { source: "search: fetchJson( org:acme", repositories: Array.from({ length: 12 }, (_, i) => `acme/svc-${i}`), notes: ["1 archived left out (add include:archived)"] },
      ],
    };
    const meta = { channel: "C1", teamId: "T1", preview: { digest: "0123456789abcdef", count: 13 } };
    await expect(json(jobModal(meta, allow.patterns, { values, preview }))).toMatchFileSnapshot(golden("modal-preview"));
    const failed = jobModal(meta, allow.patterns, { values, preview: { total: 0, selectors: [], error: "search: nothing matches no repository you may change (0 found)" } });
    expect(JSON.stringify(failed)).toContain(":warning: search: nothing matches no repository you may change (0 found)");
  });

  it("diff-modal", async () => {
    await expect(json(diffModal("acme/billing", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n"))).toMatchFileSnapshot(golden("diff-modal"));
  });

  it("ephemeral texts", async () => {
    const j = job({ status: "RUNNING", counters });
    const failed = [row({ status: "FAILED", repositoryName: "acme/web-shop", error: "verify failed" })];
    await expect([helpText(), listText([j], at(30)), statusText(j, failed, at(6))].join("\n\n---\n\n") + "\n").toMatchFileSnapshot("./__golden__/ephemeral.txt");
  });
});

describe("message limits", () => {
  it("keeps a section under 3000 characters whatever the links and reasons", () => {
    const line = replyLine({
      repo: row({ status: "FAILED", error: "x".repeat(10_000), prUrl: `https://github.com/${"p".repeat(3000)}` }),
      diffUrl: `https://s3/${"d".repeat(2500)}`,
      transcriptUrl: `https://s3/${"t".repeat(2500)}`,
    });
    expect(line.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(line).toContain("acme/billing");
  });

  it("splits 1000 repositories into replies of at most 50 blocks", () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ repo: row({ repositoryName: `acme/r${i}`, index: i }) }));
    const msgs = replyMessages(many);
    expect(msgs).toHaveLength(20);
    expect(msgs.every((m) => m.blocks.length <= 50)).toBe(true);
  });

  it("keeps an action summary of 1000 repositories within 50 blocks and 3000 characters a section", () => {
    const all = Array.from({ length: 1000 }, (_, i) => ({ repository: `acme/service-with-a-long-name-${i}`, kind: i % 3 ? "merged" : "failed", reason: i % 3 ? undefined : `reason ${i % 70}` }));
    const m = actionSummaryMessage({ action: "merge", by: "UDANA", at: T0.toISOString(), counts: {}, results: [], jobId: "j-1", jobName: "x", all } as ActionSummary);
    expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.messageBlocks);
    for (const b of m.blocks) expect(((b as { text?: { text: string } }).text?.text ?? "").length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(JSON.stringify(m)).toContain("more groups");
  });

  it("keeps the root within limits for a very long prompt and name", () => {
    const m = rootMessage(job({ name: "n".repeat(500), prompt: "p".repeat(20_000) }), T0);
    for (const b of m.blocks) {
      const text = (b as { text?: { text: string } }).text?.text ?? "";
      expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    }
  });
});

describe("escaping before cutting", () => {
  const sections = (blocks: Array<Record<string, unknown>>) => blocks.map((b) => (b as { text?: { text: string } }).text?.text ?? "");

  it.for([
    { name: "600 &", s: "&".repeat(600), max: 600 },
    { name: "an entity at the cut", s: `${"a".repeat(597)}<b>`, max: 600 },
    { name: "short text", s: "a & b", max: 600 },
  ])("escapeCut keeps $name within the limit and never splits an entity", ({ s, max }) => {
    const out = escapeCut(s, max);
    expect(out.length).toBeLessThanOrEqual(max);
    expect(out).not.toMatch(/&(?!amp;|lt;|gt;)/);
  });

  it("keeps the root's sections within 3000 characters for instructions of 600 '&' and a name of 500 '<'", () => {
    const m = rootMessage(job({ name: "<".repeat(500), prompt: "&".repeat(600) }), T0);
    for (const text of sections(m.blocks)) expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  });

  it.for([
    { name: "root fallback text", text: () => rootMessage(job({ name: "<!channel> <@U1> <https://evil.example|x>" }), T0).text },
    { name: "reply reason", text: () => replyLine({ repo: row({ status: "FAILED", error: "<!here> see <https://evil.example|this>" }) }) },
    { name: "diff modal", text: () => sections(diffModal("acme/a", "+<!channel> <@U1> <https://evil.example|x> & more\n").blocks as Array<Record<string, unknown>>).join("") },
    { name: "status reasons", text: () => statusText(job({ status: "FAILED" }), [row({ status: "FAILED", error: "<!everyone>" })], T0) },
  ])("escapes mentions and links in the $name", ({ text }) => {
    const t = text();
    expect(t).not.toMatch(/<!|<@U1>|<https?:\/\/evil/);
    expect(t).toContain("&lt;");
  });

  it("cuts a long diff after escaping it, within one section", () => {
    const m = diffModal("acme/a", "<&>".repeat(2000));
    const [code] = sections(m.blocks as Array<Record<string, unknown>>);
    expect(code!.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(JSON.stringify(m.blocks)).toContain("Showing the start of 6000 characters");
  });
});

describe("Slack polish (issue 21)", () => {
  const campaign = (over: Partial<CampaignSummary> = {}): CampaignSummary => ({
    prs: 18, merged: 6, closed: 1, open: 11, passing: 5, failing: 4, pending: 2, awaitingReview: 7, approved: 4, conflicting: 0, refreshedAt: "2026-01-05T11:31:00Z", ...over,
  });
  const ended = (c: CampaignSummary, failed = 2) =>
    job({ status: "FAILED", counters: { total: 20, completed: 18, noChanges: 0, failed, cancelled: 0 }, totals: { prsOpened: 18, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costMicroUsd: 0 }, finishedAt: at(14).toISOString(), campaign: c });
  const texts = (m: { blocks: Array<Record<string, unknown>> }) => m.blocks.map((b) => (b.text as { text?: string } | undefined)?.text ?? "").join("\n");
  const actionBlocks = (m: { blocks: Array<Record<string, unknown>> }) =>
    m.blocks.filter((b) => b.type === "actions").map((b) => ({ id: b.block_id, labels: (b.elements as Array<{ text: { text: string } }>).map((e) => e.text.text) }));

  it("draws the progress bar as plain text, not inline code", () => {
    const t = texts(rootMessage(job({ status: "RUNNING", counters: { total: 36, completed: 18, noChanges: 0, failed: 0, cancelled: 0 } }), at(3)));
    expect(t).toContain("▓▓▓▓▓▓░░░░░░  18 / 36");
    expect(t).not.toMatch(/`[▓░]+`/);
  });

  it("puts Close PRs apart from the constructive buttons", () => {
    expect(actionBlocks(rootMessage(ended(campaign()), at(70)))).toEqual([
      { id: "campaign_actions", labels: ["Retry failed", "Merge green", "Update PRs", "Heal failing", "Refresh"] },
      { id: "campaign_destructive", labels: ["Close PRs"] },
    ]);
  });

  it("offers only Refresh once the campaign is done, even with failed repositories", () => {
    expect(actionBlocks(rootMessage(ended(campaign({ merged: 15, closed: 3, open: 0, passing: 0, failing: 0, pending: 0, awaitingReview: 0, approved: 0 })), at(700)))).toEqual([
      { id: "campaign_actions", labels: ["Refresh"] },
    ]);
  });

  it("gives the burndown its as-of time and the first failing PRs, then how many more", () => {
    const failingPrs = ["a", "b", "c", "d"].map((n, i) => ({ repository: `acme/${n}`, number: 10 + i, url: `https://github.com/acme/${n}/pull/${10 + i}`, checks: ["lint"] }));
    const t = texts(rootMessage(ended(campaign({ failingPrs })), at(70)));
    expect(t).toContain(
      "Campaign: 6 merged · 11 open (5 passing, 4 failing, 2 pending · 7 awaiting review) · 1 closed · as of <!date^1767612660^{time}|11:31 UTC>\n" +
        "Failing: <https://github.com/acme/a/pull/10|acme/a #10> (lint), <https://github.com/acme/b/pull/11|acme/b #11> (lint), <https://github.com/acme/c/pull/12|acme/c #12> (lint) and 1 more",
    );
  });

  it("mentions who cancelled, and offers one way to the diff", () => {
    const cancelled = replyLine({ repo: row({ status: "CANCELLED", error: "cancelled by UDANA" }) });
    expect(cancelled).toBe("🚫 *acme/billing* — cancelled by <@UDANA>");
    const withLink = replyMessages([{ repo: row({ diffKey: "diffs/x", diffStats: { files: 1, additions: 1, deletions: 0 } }), diffUrl: "https://bot.example.com/links/d" }]);
    expect(withLink[0]!.blocks[0]!.accessory).toBeUndefined();
    expect(texts(withLink[0]!)).toContain("<https://bot.example.com/links/d|diff>");
    const withButton = replyMessages([{ repo: row({ diffKey: "diffs/x", diffStats: { files: 1, additions: 1, deletions: 0 } }) }]);
    expect((withButton[0]!.blocks[0]!.accessory as { text: { text: string } }).text.text).toBe("View diff");
    expect(texts(withButton[0]!)).not.toContain("|diff>");
  });

  it("says in the modal which fields are required", () => {
    const allow = parseAllowlist("acme/*");
    if (allow.kind !== "ok") throw new Error("allowlist");
    const view = jobModal({ channel: "C1", teamId: "T1" }, allow.patterns) as { blocks: Array<{ block_id?: string; hint?: { text: string } }> };
    const hint = (id: string) => view.blocks.find((b) => b.block_id === id)?.hint?.text ?? "";
    expect(hint("instructions")).toMatch(/^Required unless you paste a change spec below\./);
    expect(hint("repositories")).toMatch(/^Required unless you paste a change spec below\. Allowed: acme\/\*\./);
  });
});
