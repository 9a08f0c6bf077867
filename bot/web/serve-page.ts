/**
 * Answers the page's requests, the same way locally (bot/app.ts routes, `cody web`) and on
 * Lambda (bot/lambda.ts):
 * - `GET /jobs/<token>`: the job's page; `?repo=owner/name`: that repository's diff and conversation;
 * - `GET /jobs/<token>.json`: the page's data; `?since=<version>` answers `{ unchanged: true }`
 *   from the job row alone when nothing changed (what the page polls while the job is live);
 * - `GET /jobs/assets/page-<hash>.js|css`: the page's own script and stylesheet.
 * A forged, tampered or malformed token answers 404, an expired one (or a job gone with its
 * TTL) 410; failures answer 500 with one line, never a stack trace. Every answer carries a
 * strict Content-Security-Policy and no-referrer (the token is in the URL).
 */
import type { Artifacts } from "../../core/jobs/index.ts";
import { redact, type Logger } from "../../core/runtime/index.ts";
import type { Store } from "../../core/jobs/index.ts";
import { assetNamed } from "./page-assets.ts";
import { isLive, jobVersion, pageModel } from "./page-model.ts";
import { checkPageToken } from "./page-token.ts";
import { renderConversation } from "./render-conversation.ts";
import { renderDiff } from "./render-diff.ts";
import { renderErrorPage, renderJobPage, renderRepoPage } from "./render-page.ts";

/** What the page needs. `secrets` are redacted from every text shown (as in Slack). */
export type PageDeps = {
  pageKey: Buffer;
  store: Pick<Store, "getJob" | "listRepos">;
  artifacts: Pick<Artifacts, "get">;
  secrets: readonly string[];
  log: Pick<Logger, "error">;
  now?: () => Date;
};

/** An HTTP answer. */
export type PageResponse = { status: number; headers: Record<string, string>; body: string };

/** The Content-Security-Policy of every answer: the bot's own script, style and data, nothing else. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  "content-security-policy": PAGE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-resource-policy": "same-origin",
} as const;

function answer(status: number, type: string, body: string, cache = "no-store"): PageResponse {
  return { status, headers: { ...SECURITY_HEADERS, "content-type": type, "cache-control": cache }, body };
}

const HTML = "text/html; charset=utf-8";
const notFound = () => answer(404, HTML, renderErrorPage("Not found", "There is no page at this address. Ask for a new link in the job's Slack thread or with `cody web JOB_ID`."));
const gone = () => answer(410, HTML, renderErrorPage("This page has expired", "Job pages expire with their job (30 days after it started)."));

/**
 * Answers `GET /jobs/<rest>` (`rest`: the path after `/jobs/`, still percent-encoded; `query`:
 * the raw query string). Never throws.
 */
export async function servePage(deps: PageDeps, rest: string, query = ""): Promise<PageResponse> {
  try {
    if (rest.startsWith("assets/")) {
      const a = assetNamed(rest.slice("assets/".length));
      return a ? answer(200, a.type, a.body, "public, max-age=31536000, immutable") : notFound();
    }
    const json = rest.endsWith(".json");
    const token = json ? rest.slice(0, -".json".length) : rest;
    const now = deps.now?.() ?? new Date();
    const check = checkPageToken(deps.pageKey, token, Math.floor(now.getTime() / 1000));
    if (check.kind === "invalid") return notFound();
    if (check.kind === "expired") return gone();
    const job = await deps.store.getJob(check.payload.jobId);
    if (!job) return gone();
    // `?since=<version>`: the poller's question "anything new?", answered from the job row alone.
    const since = json ? param(query, "since") : undefined;
    if (since !== undefined && since === jobVersion(job)) {
      return answer(200, "application/json; charset=utf-8", JSON.stringify({ version: since, unchanged: true, live: isLive(job), job: { status: job.status } }));
    }
    const rows = await deps.store.listRepos(job.jobId);
    const model = pageModel(job, rows, now, deps.secrets);
    if (json) return answer(200, "application/json; charset=utf-8", JSON.stringify(model));
    const repoName = param(query, "repo");
    if (repoName === undefined) return answer(200, HTML, renderJobPage(model, token));
    const view = model.repositories.find((r) => r.name === repoName);
    const row = rows.find((r) => r.repositoryName === repoName);
    if (!view || !row) return notFound();
    // Only the keys the job's own row names, so a query can never reach another object.
    const [diff, transcript] = await Promise.all([
      row.diffKey ? deps.artifacts.get(row.diffKey) : undefined,
      row.transcriptKey ? deps.artifacts.get(row.transcriptKey) : undefined,
    ]);
    return answer(
      200,
      HTML,
      renderRepoPage(model, view, token, {
        ...(diff !== undefined ? { diffHtml: renderDiff(redact(diff, deps.secrets)) } : {}),
        ...(transcript !== undefined ? { conversationHtml: renderConversation(redact(transcript, deps.secrets)) } : {}),
      }),
    );
  } catch (err) {
    deps.log.error({ err: { message: (err as Error).message } }, "job page failed");
    return answer(500, "text/plain; charset=utf-8", "internal error\n");
  }
}

/** A parameter of a query string, or undefined (absent or malformed). */
function param(query: string, name: string): string | undefined {
  try {
    const v = new URLSearchParams(query.startsWith("?") ? query.slice(1) : query).get(name);
    return v ?? undefined;
  } catch {
    return undefined;
  }
}
