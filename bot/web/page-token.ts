/**
 * The token of a job's web page (`/jobs/<token>`): base64url(JSON {jobId, exp}) "." base64url(HMAC-SHA256),
 * like the artifact links (bot/links.ts) but under its own derived key, so a link token never
 * opens a page nor the reverse. It grants that one job's page and expires with the job.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Job } from "../../core/jobs/index.ts";

/** What a page token carries. `exp` is epoch seconds (the job's expiresAt). */
export type PagePayload = { jobId: string; exp: number };

export type PageCheck = { kind: "ok"; payload: PagePayload } | { kind: "invalid" } | { kind: "expired" };

/** Job ids a token may name (newJobId makes `j-` + 10 base-36 characters; tests use others of this shape). */
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** The only characters a token has: two base64url parts and one dot. */
const TOKEN = /^[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{43}$/;

/** The page-signing key: HMAC of a fixed label under LINK_SIGNING_SECRET (the secret itself signs nothing). */
export function derivePageKey(signingSecret: string): Buffer {
  return createHmac("sha256", signingSecret).update("cody-batch/pages/v1").digest();
}

/** The token of `job`'s page. */
export function pageToken(key: Buffer, job: Pick<Job, "jobId" | "expiresAt">): string {
  const body = Buffer.from(JSON.stringify({ jobId: job.jobId, exp: job.expiresAt } satisfies PagePayload)).toString("base64url");
  return `${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}

/** The page URL of `job` under `baseUrl` (no trailing slash needed). */
export function pageUrl(baseUrl: string, key: Buffer, job: Pick<Job, "jobId" | "expiresAt">): string {
  return `${baseUrl.replace(/\/+$/, "")}/jobs/${pageToken(key, job)}`;
}

/** Checks a token's characters, signature, shape and expiry (`nowSec`). Never throws. */
export function checkPageToken(key: Buffer, token: string, nowSec: number): PageCheck {
  if (!TOKEN.test(token)) return { kind: "invalid" };
  const [body, mac] = token.split(".") as [string, string];
  const want = createHmac("sha256", key).update(body).digest();
  const got = Buffer.from(mac, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { kind: "invalid" };
  let payload: PagePayload;
  try {
    payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as PagePayload;
  } catch {
    return { kind: "invalid" };
  }
  if (typeof payload?.jobId !== "string" || !JOB_ID.test(payload.jobId) || typeof payload.exp !== "number") return { kind: "invalid" };
  if (payload.exp < nowSec) return { kind: "expired" };
  return { kind: "ok", payload: { jobId: payload.jobId, exp: payload.exp } };
}
