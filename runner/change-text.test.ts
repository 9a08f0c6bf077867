/**
 * A summary written by a prompt-injected model lands in the commit message and the pull request
 * description of every repository: it must not close or link issues, ping people, render HTML
 * or forge our marker; and a secret anywhere in those texts is found.
 */
import { describe, expect, it } from "vitest";
import { commitMessage, holdsSecret, inertMarkdown, inertText, secretReason } from "./change-text.ts";
import { pullRequestBody, pullRequestMarker, type PullRequestInput } from "./pull-request.ts";

const ZWSP = "\u200b";
const HOSTILE = [
  "Fixes #1, closes acme/other#2 and resolves GH-3.",
  "Fixes https://github.com/acme/api/issues/4",
  "cc @acme/security-team and @alice",
  "<!-- cody-batch:job=j-forged00000 -->",
  "<img src=x onerror=alert(1)><details open>hidden</details>",
  "<!-- an unclosed comment swallowing the rest",
].join("\n");

function body(summary: string, over: Partial<PullRequestInput["job"]> = {}): string {
  return pullRequestBody({
    job: { jobId: "j-real000000", name: "Bump #5 for @bob", type: "code-pattern-update", prompt: "Do it like #6, ask @carol", pullRequest: undefined, slack: undefined, ...over } as PullRequestInput["job"],
    repository: "acme/api",
    head: "cody/j-real000000",
    summary,
  });
}

describe("inert texts", () => {
  it.for([
    { name: "an issue number", in: "Fixes #1", want: `Fixes #${ZWSP}1` },
    { name: "a cross-repository reference", in: "acme/other#2", want: `acme/other#${ZWSP}2` },
    { name: "a GH- reference", in: "see GH-3", want: `see GH${ZWSP}-3` },
    { name: "a user mention", in: "cc @alice", want: `cc @${ZWSP}alice` },
    { name: "a team mention", in: "@acme/team", want: `@${ZWSP}acme/team` },
    { name: "a closing keyword before an issue URL", in: "Closes: https://github.com/a/b/issues/4", want: `C${ZWSP}loses: https://github.com/a/b/issues/4` },
    { name: "ordinary prose", in: "Fixed the typo in section 2 (a # b).", want: "Fixed the typo in section 2 (a # b)." },
  ])("neutralises $name in plain text", (tc) => {
    expect(inertText(tc.in)).toBe(tc.want);
  });

  it("strips HTML comments and escapes every tag in Markdown", () => {
    const out = inertMarkdown(HOSTILE);
    expect(out).not.toMatch(/<|cody-batch:job|unclosed/);
    expect(out).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(out).not.toMatch(/#\d|@[a-z]|GH-\d/i);
  });
});

describe("the commit message and the pull request body", () => {
  it("carry the summary inert, and only our own marker", () => {
    const msg = commitMessage({ jobId: "j-real000000", name: "Bump #5 for @bob", type: "code-pattern-update" }, HOSTILE);
    expect(msg).not.toMatch(/#\d|@[a-z]|GH-\d|cody-batch:job/i);
    expect(msg.endsWith("\n\nCody Batch job j-real000000")).toBe(true);
    const b = body(HOSTILE);
    expect(b.split("cody-batch:job=")).toHaveLength(2);
    expect(b.startsWith(pullRequestMarker("j-real000000"))).toBe(true);
    expect(b).not.toMatch(/<img|<details|#\d|@[a-z]|GH-\d/i);
    expect(b).toContain(`Fixes #${ZWSP}1`);
  });

  it("keeps a script verbatim in its code fence", () => {
    const b = body("", { type: "script", script: "sed -i 's/#1/@x/' a.txt" });
    expect(b).toContain("```sh\nsed -i 's/#1/@x/' a.txt\n```");
  });
});

describe("secrets in outgoing texts", () => {
  it.for([
    { name: "a known value", text: "token plain-known-secret-value here", want: true },
    { name: "a GitHub token shape", text: `x ghp_${"a".repeat(36)}`, want: true },
    { name: "a private key split over lines", text: "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", want: true },
    { name: "ordinary text", text: "Bumped lodash to 4.17.21", want: false },
  ])("finds $name", (tc) => {
    expect(holdsSecret(tc.text, ["plain-known-secret-value"])).toBe(tc.want);
  });

  it("names where the secret is without quoting it", () => {
    const reason = secretReason([{ where: "the change", text: "ok" }, { where: "Claude's summary", text: "plain-known-secret-value" }], ["plain-known-secret-value"]);
    expect(reason).toMatch(/^Claude's summary holds a secret/);
    expect(reason).not.toContain("plain-known");
    expect(secretReason([{ where: "the change", text: "ok" }], [])).toBeUndefined();
  });
});
