import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { listOwnerRepositories, newGitHub, statusOf } from "./github.ts";
import { startFakeGitHub, type FakeGitHub } from "../../test/fakes/github.ts";

const TOKEN = "ghp_faketoken000000000000000000000000";
const fast = { retryAfterBaseValue: 1, writeMinTimeMs: 0, notificationMinTimeMs: 0 };

let fake: FakeGitHub | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe("newGitHub with a token", () => {
  it("sends the token to GITHUB_API_URL and serves git the same token", async () => {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    fake.addRepo("acme/api", { defaultBranch: "trunk" });
    const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, fast);
    const { data } = await gh.octokit.rest.repos.get({ owner: "acme", repo: "api" });
    expect(data.default_branch).toBe("trunk");
    expect(fake.requests.at(-1)).toMatchObject({ path: "/repos/acme/api", status: 200, auth: "token" });
    expect(await gh.gitToken()).toBe(TOKEN);
  });

  it("surfaces 401 for a wrong token without retrying", async () => {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    fake.addRepo("acme/api");
    const gh = newGitHub({ github: { token: "ghp_wrong", apiUrl: fake.url } }, fast);
    const err = await gh.octokit.rest.repos.get({ owner: "acme", repo: "api" }).catch((e: unknown) => e);
    expect(statusOf(err)).toBe(401);
    expect(fake.requests).toHaveLength(1);
  });

  it.for([
    {
      name: "secondary rate limit with retry-after",
      headers: { "retry-after": "2" } as Record<string, string>,
      body: undefined,
      wantKind: "secondary",
    },
    {
      name: "primary rate limit with x-ratelimit-reset",
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 1) },
      body: { message: "API rate limit exceeded for user ID 1.", documentation_url: "https://docs.github.com/rest" },
      wantKind: "primary",
    },
  ])("waits out a $name and succeeds", async (tc) => {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    fake.addRepo("acme/api");
    const warnings: Array<Record<string, unknown>> = [];
    const log = { warn: (o: Record<string, unknown>) => warnings.push(o), error: () => {} } as never;
    fake.inject({ method: "GET", path: "/repos/acme/api", status: 403, headers: tc.headers, body: tc.body });
    const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, { ...fast, log });
    const { status } = await gh.octokit.rest.repos.get({ owner: "acme", repo: "api" });
    expect(status).toBe(200);
    expect(fake.requests.map((r) => r.status)).toEqual([403, 200]);
    expect(warnings).toEqual([expect.objectContaining({ kind: tc.wantKind, retryCount: 0, willRetry: true })]);
    if (tc.wantKind === "secondary") expect(warnings[0]).toMatchObject({ retryAfter: 2 });
  });

  it("gives up after the configured number of rate-limited retries", async () => {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    fake.addRepo("acme/api");
    fake.inject({ path: "/repos/acme/api", status: 403, headers: { "retry-after": "1" }, times: 10 });
    const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, { ...fast, maxRateLimitRetries: 2 });
    const err = await gh.octokit.rest.repos.get({ owner: "acme", repo: "api" }).catch((e: unknown) => e);
    expect(statusOf(err)).toBe(403);
    expect(fake.requests).toHaveLength(3);
  });

  it("does not wait for a rate limit longer than the budget", async () => {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    fake.addRepo("acme/api");
    fake.inject({ path: "/repos/acme/api", status: 403, headers: { "retry-after": "3600" } });
    const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, { ...fast, maxRateLimitWaitSeconds: 60 });
    const err = await gh.octokit.rest.repos.get({ owner: "acme", repo: "api" }).catch((e: unknown) => e);
    expect(statusOf(err)).toBe(403);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("listOwnerRepositories", () => {
  it.for([
    { name: "an organization across pages", ownerType: "Organization" as const, count: 205 },
    { name: "a user", ownerType: "User" as const, count: 3 },
  ])("lists the non-archived repositories of $name", async (tc) => {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    const want: string[] = [];
    for (let i = 0; i < tc.count; i++) {
      fake.addRepo(`owner1/repo-${i}`, { ownerType: tc.ownerType, archived: i % 10 === 3 });
      if (i % 10 !== 3) want.push(`owner1/repo-${i}`);
    }
    fake.addRepo("other/thing");
    const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, fast);
    expect(await listOwnerRepositories(gh.octokit, "owner1")).toEqual(want);
    if (tc.ownerType === "Organization") expect(fake.requests.filter((r) => r.path === "/orgs/owner1/repos")).toHaveLength(3);
  });

  it("throws for an owner that does not exist", async () => {
    fake = await startFakeGitHub({ tokens: [TOKEN] });
    const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, fast);
    await expect(listOwnerRepositories(gh.octokit, "nobody")).rejects.toThrow("list repositories of nobody");
  });
});

describe("newGitHub as a GitHub App", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();

  it.for([
    { name: "looked up for the repository", installationId: undefined, repository: "acme/api", lookup: "/repos/acme/api/installation" },
    { name: "looked up for the owner", installationId: undefined, repository: "acme", lookup: "/orgs/acme/installation" },
    { name: "given by GITHUB_APP_INSTALLATION_ID", installationId: "77", repository: undefined, lookup: undefined },
  ])("uses an installation token ($name) and refreshes it before it expires", async (tc) => {
    let clock = Date.parse("2030-01-01T00:00:00Z");
    fake = await startFakeGitHub({ app: { appId: "123", publicKey, installations: [{ id: 77, account: "acme" }] }, now: () => clock });
    fake.addRepo("acme/api");
    const gh = newGitHub(
      { github: { apiUrl: fake.url, app: { appId: "123", privateKey: pem, installationId: tc.installationId } } },
      { ...fast, repository: tc.repository, now: () => clock },
    );

    await gh.octokit.rest.repos.get({ owner: "acme", repo: "api" });
    const first = await gh.gitToken();
    expect(fake.issuedTokens).toHaveLength(1);
    expect(first).toBe(fake.issuedTokens[0]!.token);
    expect(fake.requests.filter((r) => r.path.endsWith("/installation")).map((r) => r.path)).toEqual(tc.lookup ? [tc.lookup] : []);
    expect(fake.requests.filter((r) => r.path === "/repos/acme/api").map((r) => r.auth)).toEqual(["installation"]);

    clock += 30 * 60_000; // still well inside the hour: the token is reused
    await gh.octokit.rest.repos.get({ owner: "acme", repo: "api" });
    expect(await gh.gitToken()).toBe(first);
    expect(fake.issuedTokens).toHaveLength(1);

    clock += 27 * 60_000; // 3 minutes before expiry: inside the refresh margin
    const second = await gh.gitToken();
    expect(second).not.toBe(first);
    expect(fake.issuedTokens).toHaveLength(2);
    clock += 10 * 60_000; // the first token has expired at the fake; the API must use the new one
    const { status } = await gh.octokit.rest.repos.get({ owner: "acme", repo: "api" });
    expect(status).toBe(200);
    expect(fake.issuedTokens.at(-1)!.token).toBe(await gh.gitToken());
  });

  it("fails clearly when the App is not installed for the owner", async () => {
    fake = await startFakeGitHub({ app: { appId: "123", publicKey, installations: [] } });
    const gh = newGitHub({ github: { apiUrl: fake.url, app: { appId: "123", privateKey: pem } } }, { ...fast, repository: "acme/api" });
    await expect(gh.gitToken()).rejects.toThrow("the GitHub App is not installed on acme/api");
  });
});
