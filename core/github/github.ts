/**
 * The GitHub client: Octokit with the throttling and retry plugins, pointed at `GITHUB_API_URL`
 * (github.com, GitHub Enterprise Server or a test server), authenticated with a token or as a
 * GitHub App installation. The same credential serves the REST API and git (`gitToken`).
 */
import { Octokit } from "@octokit/rest";
import { throttling } from "@octokit/plugin-throttling";
import { retry } from "@octokit/plugin-retry";
import { createAppAuth } from "@octokit/auth-app";
import type { Config } from "../config/index.ts";
import type { Logger } from "../runtime/index.ts";

const GitHubOctokit = Octokit.plugin(throttling, retry);

/** The Octokit instance {@link newGitHub} builds (REST methods, `paginate`, throttling, retry). */
export type GitHubClient = InstanceType<typeof GitHubOctokit>;

/** Returns the token git should send (`Authorization: Basic x-access-token:<token>`), or undefined without credentials. */
export type GitTokenProvider = (signal?: AbortSignal) => Promise<string | undefined>;

export type GitHub = { octokit: GitHubClient; gitToken: GitTokenProvider };

/** Knobs for {@link newGitHub}; the defaults suit production, tests shrink the waits. */
export type GitHubOptions = {
  /**
   * `owner/name` or `owner`: where to look up the App installation when
   * `GITHUB_APP_INSTALLATION_ID` is not set. Without it, the App's only installation is used.
   */
  repository?: string;
  log?: Logger;
  /** Milliseconds per second of `retry-after` / `x-ratelimit-reset` waits (default 1000; tests use 1). */
  retryAfterBaseValue?: number;
  /** Rate-limited retries per request before giving up (default 3). */
  maxRateLimitRetries?: number;
  /** Longest rate-limit wait (seconds) worth retrying after; a longer one gives up at once (default 900). */
  maxRateLimitWaitSeconds?: number;
  /** Minimum milliseconds between two write requests of this process (default 1000, GitHub's advice). */
  writeMinTimeMs?: number;
  /** Minimum milliseconds between two notification-triggering writes (PRs, comments) of this process (default 3000). */
  notificationMinTimeMs?: number;
  /** Minimum milliseconds between two search requests of this process (default 6000: code search allows 10 a minute). */
  searchMinTimeMs?: number;
  /** Timeout of one HTTP attempt (default 30 s). */
  requestTimeoutMs?: number;
  /** Clock for installation-token expiry (default Date.now). */
  now?: () => number;
  /** Refresh an installation token this long before it expires (default 5 minutes). */
  tokenRefreshMarginMs?: number;
};

/** Thrown when the configuration names no usable credential or the App installation cannot be found. */
export class GitHubAuthError extends Error {
  override name = "GitHubAuthError";
}

/**
 * Builds the GitHub client of a config. With `config.github.app`, every request and every git
 * command uses an installation token (found by `installationId`, else looked up for
 * `opts.repository`'s owner), fetched on first use and refreshed before its 1-hour expiry;
 * otherwise `config.github.token` (which may be undefined: public, read-only use).
 * Rate limits: primary and secondary limits are retried after `retry-after` / `x-ratelimit-reset`
 * up to `maxRateLimitRetries` times; then the request fails with GitHub's 403/429 error.
 * No network I/O happens until the first request.
 */
export function newGitHub(config: Pick<Config, "github">, opts: GitHubOptions = {}): GitHub {
  const log = opts.log;
  const baseUrl = (config.github.apiUrl ?? "https://api.github.com").replace(/\/+$/, "");
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  const fetchWithTimeout: typeof fetch = (input, init) => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(init?.signal ? [init.signal] : [])];
    return fetch(input, { ...init, signal: AbortSignal.any(signals) });
  };
  const maxRetries = opts.maxRateLimitRetries ?? 3;
  const maxWait = opts.maxRateLimitWaitSeconds ?? 900;
  const onLimit =
    (kind: string) =>
    (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const willRetry = retryCount < maxRetries && retryAfter <= maxWait;
      log?.warn({ kind, method: options.method, url: options.url, retryAfter, retryCount, willRetry }, "github rate limit hit");
      return willRetry;
    };

  const app = config.github.app;
  const gitToken: GitTokenProvider = app
    ? installationTokenProvider({ ...app, baseUrl, fetch: fetchWithTimeout, repository: opts.repository, now: opts.now ?? Date.now, marginMs: opts.tokenRefreshMarginMs ?? 5 * 60_000 })
    : async () => config.github.token;

  const octokit = new GitHubOctokit({
    baseUrl,
    userAgent: "cody-batch",
    ...(app ? { authStrategy: tokenProviderStrategy(gitToken) } : config.github.token ? { auth: config.github.token } : {}),
    request: { fetch: fetchWithTimeout },
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => log?.warn({ source: "octokit" }, message.slice(0, 300)),
      error: (message: string) => log?.error({ source: "octokit" }, message.slice(0, 300)),
    },
    throttle: {
      id: "cody-batch",
      retryAfterBaseValue: opts.retryAfterBaseValue ?? 1000,
      fallbackSecondaryRateRetryAfter: 60,
      onRateLimit: onLimit("primary"),
      onSecondaryRateLimit: onLimit("secondary"),
      // The plugin's own groups wait 1 s between writes and 3 s between notifying writes; the
      // same pacing, made configurable so tests need not wait.
      write: pacer("write", opts.writeMinTimeMs ?? config.github.pacing?.writeMs ?? 1000) as never,
      notifications: pacer("notifications", opts.notificationMinTimeMs ?? config.github.pacing?.notifyMs ?? 3000) as never,
      // Code search allows 10 requests a minute (repository search 30): one search every 6 s.
      search: pacer("search", opts.searchMinTimeMs ?? 6000) as never,
    },
    retry: { retries: 3, retryAfterBaseValue: opts.retryAfterBaseValue ?? 1000 },
  });
  return { octokit, gitToken };
}

/**
 * The repositories of an org or a user, `owner/name`, archived ones left out, in the API's order.
 * Tries the org listing first and falls back to the user listing on 404. Throws on other errors
 * (a 404 for both: the owner does not exist or is invisible to the token).
 */
export async function listOwnerRepositories(octokit: GitHubClient, owner: string, signal?: AbortSignal): Promise<string[]> {
  return (await listOwnerRepositoryInfo(octokit, owner, signal)).filter((r) => !r.archived).map((r) => r.fullName);
}

/**
 * Every repository of an org or a user with its archived and fork flags, in the API's order
 * (org listing first, user listing on 404). Throws like {@link listOwnerRepositories}.
 */
export async function listOwnerRepositoryInfo(
  octokit: GitHubClient,
  owner: string,
  signal?: AbortSignal,
): Promise<Array<{ fullName: string; archived: boolean; fork: boolean }>> {
  const request = signal ? { signal } : {};
  type Repo = { full_name: string; archived?: boolean; fork?: boolean };
  let repos: Repo[];
  try {
    repos = await octokit.paginate(octokit.rest.repos.listForOrg, { org: owner, per_page: 100, type: "all", request });
  } catch (err) {
    if (statusOf(err) !== 404) throw new Error(`list repositories of ${owner}`, { cause: err });
    try {
      repos = await octokit.paginate(octokit.rest.repos.listForUser, { username: owner, per_page: 100, type: "owner", request });
    } catch (err2) {
      throw new Error(`list repositories of ${owner}`, { cause: err2 });
    }
  }
  return repos.map((r) => ({ fullName: r.full_name, archived: r.archived === true, fork: r.fork === true }));
}

/** The HTTP status of an Octokit error, if it has one. */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === "number" ? s : undefined;
}

type InstallationSource = {
  appId: string;
  privateKey: string;
  installationId?: string;
  baseUrl: string;
  fetch: typeof fetch;
  repository?: string;
  now: () => number;
  marginMs: number;
};

/** Caches one installation token and fetches a new one when it is within `marginMs` of expiring. */
function installationTokenProvider(src: InstallationSource): GitTokenProvider {
  // A plain client (no auth, no throttling) for the App's own endpoints; auth-app adds the JWT.
  const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const request = new Octokit({ baseUrl: src.baseUrl, userAgent: "cody-batch", request: { fetch: src.fetch }, log: quiet }).request;
  const appAuth = createAppAuth({ appId: src.appId, privateKey: src.privateKey, request });
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;
  let installationId = src.installationId ? Number(src.installationId) : undefined;

  async function findInstallation(signal?: AbortSignal): Promise<number> {
    const { token: jwt } = await appAuth({ type: "app" });
    const headers = { authorization: `bearer ${jwt}` };
    const [owner, name] = (src.repository ?? "").split("/");
    const routes: Array<[string, Record<string, string>]> = [];
    if (owner && name && name !== "*") routes.push(["GET /repos/{owner}/{repo}/installation", { owner, repo: name }]);
    else if (owner) routes.push(["GET /orgs/{org}/installation", { org: owner }], ["GET /users/{username}/installation", { username: owner }]);
    for (const [route, params] of routes) {
      try {
        const r = await request(route, { ...params, headers, request: { signal } });
        return (r.data as { id: number }).id;
      } catch (err) {
        if (statusOf(err) !== 404) throw new Error("look up the GitHub App installation", { cause: err });
      }
    }
    if (owner) throw new GitHubAuthError(`the GitHub App is not installed on ${src.repository}`);
    const r = await request("GET /app/installations", { headers, per_page: 2, request: { signal } });
    const list = r.data as Array<{ id: number }>;
    if (list.length !== 1) throw new GitHubAuthError(`the GitHub App has ${list.length === 0 ? "no" : "several"} installations: set GITHUB_APP_INSTALLATION_ID`);
    return list[0]!.id;
  }

  async function fetchToken(signal?: AbortSignal): Promise<string> {
    installationId ??= await findInstallation(signal);
    const auth = (await appAuth({ type: "installation", installationId, refresh: true })) as { token: string; expiresAt: string };
    cached = { token: auth.token, expiresAt: Date.parse(auth.expiresAt) };
    return auth.token;
  }

  return async (signal) => {
    if (cached && src.now() < cached.expiresAt - src.marginMs) return cached.token;
    // One refresh at a time: concurrent callers share it.
    pending ??= fetchToken(signal).finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/** An Octokit auth strategy that asks a token provider before every request (so a refresh is picked up). */
function tokenProviderStrategy(provider: GitTokenProvider) {
  return () =>
    Object.assign(async () => ({ type: "token", tokenType: "installation", token: await provider() }), {
      hook: async (
        request: ((options: unknown) => Promise<unknown>) & { endpoint: { merge: (route: unknown, params?: unknown) => { headers: Record<string, string>; request?: { signal?: AbortSignal } } } },
        route: unknown,
        parameters?: unknown,
      ) => {
        const endpoint = request.endpoint.merge(route, parameters);
        const token = await provider(endpoint.request?.signal);
        if (token) endpoint.headers.authorization = `token ${token}`;
        return request(endpoint);
      },
    });
}

const pacers = new Map<string, { key: () => { schedule: Schedule } }>();
type Schedule = <T>(options: unknown, fn: (...args: unknown[]) => Promise<T>, ...args: unknown[]) => Promise<T>;

/**
 * A stand-in for the throttling plugin's Bottleneck groups: calls start at least `minTimeMs`
 * apart, one after another, across every client of this process with the same settings.
 * Only `key(id).schedule(options, fn, ...args)` is used by the plugin.
 */
function pacer(kind: string, minTimeMs: number) {
  const name = `${kind}:${minTimeMs}`;
  const existing = pacers.get(name);
  if (existing) return existing;
  let chain: Promise<unknown> = Promise.resolve();
  let last = 0;
  const schedule: Schedule = (_options, fn, ...args) => {
    const run = chain.then(async () => {
      const wait = last + minTimeMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      last = Date.now();
    });
    chain = run.catch(() => {});
    return run.then(() => fn(...args));
  };
  const group = { key: () => ({ schedule }) };
  pacers.set(name, group);
  return group;
}
