/**
 * The GitHub adapter of the selectors' {@link TargetSource}: owner listings, code search
 * (`GET /search/code`) and repository search (`GET /search/repositories`) through the Octokit
 * client of core/github/github.ts, which paces search requests (one every 6 s by default: code search
 * allows 10 a minute) and retries secondary rate limits after `retry-after`.
 */
import { listOwnerRepositoryInfo, statusOf, type GitHubClient } from "./github.ts";
import { BadQueryError, type RepoInfo, type SearchAnswer, type TargetSource } from "./selectors.ts";

/** GitHub returns at most 1000 results of a search: 10 pages of 100. */
const MAX_PAGES = 10;

type SearchRepo = { full_name: string; archived?: boolean; fork?: boolean };
type SearchPage = { total_count: number; incomplete_results: boolean; items: Array<SearchRepo | { repository: SearchRepo }> };

/**
 * Follows a search's `Link: rel="next"` pages (at most 10) and returns the repositories found,
 * deduplicated case-insensitively in first-seen order. A 422 (a query GitHub cannot parse) is
 * rethrown with GitHub's message; other errors throw with the query as context.
 */
async function search(octokit: GitHubClient, route: "GET /search/code" | "GET /search/repositories", q: string, signal?: AbortSignal): Promise<SearchAnswer> {
  const seen = new Map<string, RepoInfo>();
  let totalCount = 0;
  let incomplete = false;
  let next: string | undefined;
  try {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const response = next
        ? await octokit.request({ method: "GET", url: next, request: { signal } })
        : await octokit.request(route, { q, per_page: 100, request: { signal } });
      const data = response.data as SearchPage;
      totalCount = data.total_count;
      incomplete ||= data.incomplete_results;
      for (const item of data.items) {
        const r = "repository" in item ? item.repository : item;
        const key = r.full_name.toLowerCase();
        if (!seen.has(key)) seen.set(key, { fullName: r.full_name, ...(r.archived !== undefined ? { archived: r.archived } : {}), ...(r.fork !== undefined ? { fork: r.fork } : {}) });
      }
      next = /<([^>]+)>;\s*rel="next"/.exec(String(response.headers.link ?? ""))?.[1];
      if (!next) break;
    }
  } catch (err) {
    if (statusOf(err) === 422) throw new BadQueryError(`GitHub refused the search "${q}": ${(err as Error).message.slice(0, 200)}`, { cause: err });
    throw new Error(`search GitHub for "${q}"`, { cause: err });
  }
  return { repositories: [...seen.values()], totalCount, incomplete };
}

/** The {@link TargetSource} over an Octokit client; a missing owner lists nothing. No I/O until used. */
export function newGitHubTargets(octokit: GitHubClient): TargetSource {
  return {
    listOwner: async (owner, signal) => {
      try {
        return await listOwnerRepositoryInfo(octokit, owner, signal);
      } catch (err) {
        if (statusOf((err as Error).cause) === 404) return [];
        throw err;
      }
    },
    searchCode: async (query, signal) => {
      const answer = await search(octokit, "GET /search/code", query, signal);
      return { ...answer, repositories: await withArchivedFlag(octokit, answer.repositories, signal) };
    },
    searchRepositories: (query, signal) => search(octokit, "GET /search/repositories", query, signal),
  } satisfies TargetSource;
}

/**
 * Code search reports minimal repositories without the `archived` flag: reads each repository
 * that lacks it (eight at a time) so archived ones can be left out.
 */
async function withArchivedFlag(octokit: GitHubClient, repos: RepoInfo[], signal?: AbortSignal): Promise<RepoInfo[]> {
  const out = [...repos];
  for (let i = 0; i < out.length; i += 8) {
    await Promise.all(
      out.slice(i, i + 8).map(async (r, j) => {
        if (r.archived !== undefined) return;
        const [owner = "", repo = ""] = r.fullName.split("/");
        try {
          const { data } = await octokit.rest.repos.get({ owner, repo, request: { signal } });
          out[i + j] = { ...r, archived: data.archived, fork: data.fork };
        } catch (err) {
          throw new Error(`read ${r.fullName}`, { cause: err });
        }
      }),
    );
  }
  return out;
}
