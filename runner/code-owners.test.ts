import { afterEach, describe, expect, it } from "vitest";
import { newGitHub } from "../core/github/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { startFakeGitHub, type FakeGitHub } from "../test/fakes/github.ts";
import { codeOwnerReviewers, ownersOf, parseCodeOwners } from "./code-owners.ts";
import { newGitHubForge, openOrUpdatePullRequest, pullRequestMarker } from "./pull-request.ts";

const CODEOWNERS = `# default owners
*                 @acme/everyone
/src/billing/     @dana @acme/payments
*.md              @writer
docs/**           docs@acme.test
src/**/generated  
/build/logs/      @ops
`;

describe("CODEOWNERS matching (last matching pattern wins)", () => {
  const rules = parseCodeOwners(CODEOWNERS);
  it.for([
    { path: "package.json", want: ["@acme/everyone"] },
    { path: "src/billing/invoice.ts", want: ["@dana", "@acme/payments"] },
    { path: "src/billing/README.md", want: ["@writer"] },
    { path: "lib/billing/x.ts", want: ["@acme/everyone"] },
    { path: "docs/guide/intro.txt", want: ["docs@acme.test"] },
    { path: "src/a/b/generated/x.ts", want: [] },
    { path: "build/logs/today.log", want: ["@ops"] },
    { path: "app/build/logs/x.log", want: ["@acme/everyone"] },
  ])("$path → $want", ({ path, want }) => {
    expect(ownersOf(rules, path)).toEqual(want);
  });

  it("splits users from teams and skips e-mail owners", () => {
    expect(codeOwnerReviewers(rules, ["src/billing/a.ts", "README.md", "docs/x", "src/billing/b.ts"])).toEqual({ reviewers: ["dana", "writer"], teamReviewers: ["payments"] });
  });
});

describe("reviewersFromCodeOwners against the GitHub fake", () => {
  let fake: FakeGitHub | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  const TOKEN = "ghp_codeowners000000000000000000000000";

  it.for([
    { where: ".github/CODEOWNERS", title: "chore: {{name}} in {{repository}}", wantTitle: "chore: Rename fetchJson in acme/api" },
    { where: "docs/CODEOWNERS", title: undefined, wantTitle: "Rename fetchJson" },
  ])("requests the owners of the changed files from $where, with the job's title and body template", async (tc) => {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    const repo = fake.addRepo("acme/api", { files: new Map([[tc.where, CODEOWNERS]]) });
    for (const u of ["dana", "lee", "writer"]) repo.collaborators.add(u);
    for (const t of ["payments", "everyone"]) repo.teams.add(t);
    fake.setBranch("acme/api", "cody/j-1", "c".repeat(40));
    // The runner's earlier attempt opened it; its files are what the branch changed.
    repo.pulls.push({ number: 7, title: "old", body: null, head: "cody/j-1", base: "main", draft: false, state: "open", labels: [], requestedReviewers: [], requestedTeams: [], assignees: [], files: ["src/billing/invoice.ts", "README.md"] });
    const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, { retryAfterBaseValue: 1, writeMinTimeMs: 0, notificationMinTimeMs: 0 });
    const job = {
      jobId: "j-1",
      name: "Rename fetchJson",
      type: "script" as const,
      script: "sed -i s/a/b/ x",
      pullRequest: { draft: false, labels: [], reviewers: ["lee", "Dana"], teamReviewers: [], assignees: [], minIntervalSeconds: 0, reviewersFromCodeOwners: true, bodyTemplate: "Hello from {{repository}}.\n\n{{details}}", ...(tc.title ? { title: tc.title } : {}) },
    };
    const got = await openOrUpdatePullRequest({ forge: newGitHubForge(gh.octokit), log: newLogger({ level: "silent" }) }, { job, repository: "acme/api", head: "cody/j-1" }, new AbortController().signal);
    expect(got).toMatchObject({ kind: "updated", number: 7 });
    const pr = fake.pulls("acme/api")[0]!;
    expect(pr.requestedReviewers).toEqual(["lee", "Dana", "writer"]);
    expect(pr.requestedTeams).toEqual(["payments"]);
    expect(pr.title).toBe(tc.wantTitle);
    expect(pr.body).toMatch(new RegExp(`^${pullRequestMarker("j-1")}\\n\\nHello from acme/api\\.\\n\\n### Script\\n`));
    expect(pr.body).not.toContain("Made by **Cody Batch**");
  });

  it("requests no code owners without the option, and none when the repository has no CODEOWNERS", async () => {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    const repo = fake.addRepo("acme/api", { files: new Map() });
    fake.setBranch("acme/api", "cody/j-1", "c".repeat(40));
    repo.pulls.push({ number: 3, title: "old", body: null, head: "cody/j-1", base: "main", draft: false, state: "open", labels: [], requestedReviewers: [], requestedTeams: [], assignees: [], files: ["a.ts"] });
    const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, { retryAfterBaseValue: 1, writeMinTimeMs: 0, notificationMinTimeMs: 0 });
    const job = { jobId: "j-1", name: "x", type: "script" as const, script: "true", pullRequest: { draft: false, labels: [], reviewers: [], teamReviewers: [], assignees: [], minIntervalSeconds: 0, reviewersFromCodeOwners: true } };
    await openOrUpdatePullRequest({ forge: newGitHubForge(gh.octokit), log: newLogger({ level: "silent" }) }, { job, repository: "acme/api", head: "cody/j-1" }, new AbortController().signal);
    expect(fake.pulls("acme/api")[0]!.requestedReviewers).toEqual([]);
    expect(fake.requests.filter((r) => r.path.includes("/contents/")).map((r) => r.path)).toEqual(["/repos/acme/api/contents/.github%2FCODEOWNERS", "/repos/acme/api/contents/CODEOWNERS", "/repos/acme/api/contents/docs%2FCODEOWNERS"]);
  });
});
