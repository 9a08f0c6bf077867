import { afterEach, describe, expect, it } from "vitest";
import { newGitHub } from "./github.ts";
import { newGitHubTargets } from "./github-search.ts";
import { parseAllowlist, type AllowPattern } from "../config/index.ts";
import { formatPlan, parseSelector, resolveSelectors } from "./selectors.ts";
import { startFakeGitHub, type FakeGitHub } from "../../test/fakes/github.ts";

const TOKEN = "ghp_faketoken000000000000000000000000";
const fast = { retryAfterBaseValue: 1, writeMinTimeMs: 0, notificationMinTimeMs: 0, searchMinTimeMs: 0 };

let fake: FakeGitHub | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function allow(s: string): AllowPattern[] {
  const a = parseAllowlist(s);
  if (a.kind !== "ok") throw new Error(a.reason);
  return a.patterns;
}

describe("parseSelector", () => {
  it.for([
    { raw: "acme/api", want: { kind: "repo", fullName: "acme/api" } },
    { raw: "acme/*", want: { kind: "owner", owner: "acme", include: { archived: false, forks: false } } },
    { raw: "acme/* include:archived", want: { kind: "owner", owner: "acme", include: { archived: true, forks: false } } },
    { raw: "search: fetchJson( org:acme", want: { kind: "code_search", query: "fetchJson( org:acme" } },
    { raw: "search: fetchJson include:forks", want: { kind: "code_search", query: "fetchJson", include: { archived: false, forks: true } } },
    { raw: "repos: billing org:acme", want: { kind: "repo_search", query: "billing org:acme" } },
    { raw: "topic: payments", want: { kind: "repo_search", query: "topic:payments" } },
    { raw: "topic: Payments owner:acme", want: { kind: "repo_search", query: "topic:payments user:acme" } },
  ])("reads $raw", ({ raw, want }) => {
    expect(parseSelector(raw)).toMatchObject(want);
  });

  it.for([
    { raw: "search:", reason: "give a query after search:" },
    { raw: "topic: two words", reason: "write topic: <name> [owner:<login>]" },
    { raw: "https://github.com/acme/api", reason: "is a URL" },
    { raw: "acme/api include:archived", reason: "include: applies to owner/*" },
  ])("refuses $raw", ({ raw, reason }) => {
    const r = parseSelector(raw);
    expect(r.kind).toBe("invalid");
    expect((r as { reason: string }).reason).toContain(reason);
  });
});

describe("resolveSelectors against the GitHub fake", () => {
  async function world() {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, fast);
    return { f: fake, source: newGitHubTargets(gh.octokit) };
  }

  it("pages through code search, dedupes to repositories and keeps only allowed, live, non-fork ones", async () => {
    const { f, source } = await world();
    // 120 repositories with 2 matching files each: 240 results, 3 pages of 100.
    for (let i = 0; i < 120; i++) {
      f.addRepo(`acme/svc-${i}`, {
        files: new Map([["src/a.ts", "fetchJson(url)"], ["src/b.ts", "await fetchJson(x)"], ["README.md", "hello"]]),
        archived: i === 7,
        fork: i === 8,
      });
    }
    f.addRepo("other/lib", { files: new Map([["x.ts", "fetchJson()"]]) });
    const r = await resolveSelectors({ source }, { selectors: ["search: fetchJson"], allowlist: allow("acme/*"), limit: 1000 }, AbortSignal.timeout(20_000));
    expect(r.kind).toBe("ok");
    if (r.kind !== "ok") return;
    expect(r.repositories).toHaveLength(118);
    expect(r.repositories).not.toContain("acme/svc-7");
    expect(r.repositories).not.toContain("acme/svc-8");
    expect(r.repositories).not.toContain("other/lib");
    expect(new Set(r.repositories.map((x) => x.toLowerCase())).size).toBe(118);
    expect(f.requests.filter((q) => q.path === "/search/code")).toHaveLength(3);
    expect(r.selectors[0]).toMatchObject({ found: 121, notes: ["1 archived left out (add include:archived)", "1 fork left out (add include:forks)", "1 outside ALLOWED_REPOSITORIES"] });
    expect(formatPlan(r, 2)).toContain("118 repositories match:\n  search: fetchJson → 118 of 121 found");
  });

  it("keeps archived repositories and forks when asked", async () => {
    const { f, source } = await world();
    f.addRepo("acme/old", { files: new Map([["a.ts", "fetchJson"]]), archived: true });
    f.addRepo("acme/fork", { files: new Map([["a.ts", "fetchJson"]]), fork: true });
    const r = await resolveSelectors({ source }, { selectors: ["search: fetchJson include:archived include:forks"], allowlist: "any", limit: 1000 });
    expect(r).toMatchObject({ kind: "ok", repositories: ["acme/old", "acme/fork"] });
  });

  it("selects by repository search, topic with an owner, and owner/*, deduplicated across selectors", async () => {
    const { f, source } = await world();
    f.addRepo("acme/billing-api", { topics: ["payments"] });
    f.addRepo("acme/billing-web", { topics: ["payments", "web"] });
    f.addRepo("acme/billing-fork", { topics: ["payments"], fork: true });
    f.addRepo("tools/pay", { topics: ["payments"] });
    f.addRepo("acme/old", { topics: ["payments"], archived: true });
    const r = await resolveSelectors(
      { source },
      { selectors: ["repos: billing org:acme", "topic: payments owner:acme", "acme/*", "acme/billing-api"], allowlist: allow("acme/*,tools/*"), limit: 1000 },
    );
    expect(r.kind).toBe("ok");
    if (r.kind !== "ok") return;
    expect(r.repositories).toEqual(["acme/billing-api", "acme/billing-web"]);
    expect(r.selectors.map((s) => [s.source, s.repositories.length])).toEqual([
      ["repos: billing org:acme", 2],
      ["topic: payments owner:acme", 2],
      ["acme/*", 2],
      ["acme/billing-api", 1],
    ]);
    const forks = await resolveSelectors({ source }, { selectors: ["topic: payments include:forks"], allowlist: allow("acme/*"), limit: 1000 });
    expect(forks).toMatchObject({ kind: "ok", repositories: ["acme/billing-api", "acme/billing-web", "acme/billing-fork"] });
  });

  it("waits out a 403 secondary rate limit (retry-after) and then succeeds", async () => {
    const { f, source } = await world();
    f.addRepo("acme/a", { files: new Map([["a.ts", "fetchJson"]]) });
    f.inject({ method: "GET", path: "/search/code", status: 403, headers: { "retry-after": "1" } });
    const r = await resolveSelectors({ source }, { selectors: ["search: fetchJson"], allowlist: "any", limit: 1000 });
    expect(r).toMatchObject({ kind: "ok", repositories: ["acme/a"] });
    expect(f.requests.filter((q) => q.path === "/search/code").map((q) => q.status)).toEqual([403, 200]);
  });

  it("notes incomplete results", async () => {
    const { f, source } = await world();
    f.addRepo("acme/a", { topics: ["x"] });
    f.search.incomplete = true;
    const r = await resolveSelectors({ source }, { selectors: ["topic: x"], allowlist: "any", limit: 1000 });
    expect(r.selectors[0]?.notes[0]).toContain("incomplete results");
  });

  it.for([
    { name: "matches nothing", selectors: ["search: nothingmatches"], limit: 10, want: "search: nothingmatches matches no repository you may change (0 found)" },
    { name: "matches only disallowed repositories", selectors: ["other/*"], limit: 10, want: "other/* matches no repository you may change (2 found, none kept)" },
    { name: "matches more than the job limit", selectors: ["search: fetchJson"], limit: 3, want: "search: fetchJson matches 4 repositories; a job takes at most 3" },
  ])("is an error naming the count when a selector $name", async (tc) => {
    const { f, source } = await world();
    for (const n of ["svc-1", "svc-2", "svc-3", "svc-4"]) f.addRepo(`acme/${n}`, { files: new Map([["a.ts", "fetchJson"]]) });
    f.addRepo("other/x");
    f.addRepo("other/y");
    const r = await resolveSelectors({ source }, { selectors: tc.selectors, allowlist: allow("acme/*"), limit: tc.limit });
    expect(r.kind).toBe("invalid");
    expect((r as { errors: string[] }).errors).toEqual([tc.want]);
  });

  it("refuses lookups without GitHub access but passes explicit names through", async () => {
    const r = await resolveSelectors({}, { selectors: ["acme/a", "search: x"], allowlist: "any", limit: 10 });
    expect(r).toMatchObject({ kind: "invalid", errors: ["search: x needs GitHub access to look repositories up: set GITHUB_TOKEN (or a GitHub App)"] });
    expect(await resolveSelectors({}, { selectors: ["acme/a", "Acme/A"], allowlist: "any", limit: 10 })).toMatchObject({ kind: "ok", repositories: ["acme/a"] });
  });
});
