/**
 * Stable links to artifacts. A URL presigned with role credentials dies with those credentials
 * (hours), so Slack messages carry `${BOT_PUBLIC_URL}/links/<token>` instead: the token is
 * base64url(JSON {jobId, key, exp}) "." base64url(HMAC-SHA256), keyed by a key derived from
 * LINK_SIGNING_SECRET (the Slack signing secret when unset; core/config/config.ts `linkSecret`), and expires with the job. The bot answers it with a 302 to a freshly
 * presigned S3 URL.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Artifacts } from "../core/jobs/index.ts";
import type { Job } from "../core/jobs/index.ts";

/** What a link token carries. `exp` is epoch seconds. */
export type LinkPayload = { jobId: string; key: string; exp: number };

export type LinkCheck = { kind: "ok"; payload: LinkPayload } | { kind: "invalid" } | { kind: "expired" };

/** Builds the URL a message should carry for an artifact key; undefined when none can be made. */
export type LinkBuilder = (job: Pick<Job, "jobId" | "expiresAt">, key: string) => Promise<string | undefined>;

/** The link-signing key: HMAC of a fixed label under the signing secret, so the secret itself signs nothing here. */
export function deriveLinkKey(signingSecret: string): Buffer {
  return createHmac("sha256", signingSecret).update("cody-batch/links/v1").digest();
}

/** Signs a payload into a token (URL-safe, no padding). */
export function signLink(key: Buffer, payload: LinkPayload): string {
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  const mac = createHmac("sha256", key).update(body).digest("base64url");
  return `${body}.${mac}`;
}

/** Checks a token's signature, shape and expiry (`nowSec`). Never throws. */
export function verifyLink(key: Buffer, token: string, nowSec: number): LinkCheck {
  const [body, mac, extra] = token.split(".");
  if (!body || !mac || extra !== undefined) return { kind: "invalid" };
  const want = createHmac("sha256", key).update(body).digest();
  const got = Buffer.from(mac, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { kind: "invalid" };
  let payload: LinkPayload;
  try {
    payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as LinkPayload;
  } catch {
    return { kind: "invalid" };
  }
  if (typeof payload.jobId !== "string" || typeof payload.key !== "string" || typeof payload.exp !== "number") return { kind: "invalid" };
  // Only this job's artifacts, whatever a (validly signed) payload says.
  const j = payload.jobId;
  if (!payload.key.startsWith(`diffs/${j}/`) && !payload.key.startsWith(`threads/${j}/`)) return { kind: "invalid" };
  if (payload.exp < nowSec) return { kind: "expired" };
  return { kind: "ok", payload };
}

/**
 * The link builder: stable bot links when `publicUrl` and `signingSecret` are set, else a
 * presigned S3 link straight away (fine locally, short-lived in AWS).
 */
export function newLinkBuilder(opts: { publicUrl?: string; signingSecret?: string; artifacts: Pick<Artifacts, "link"> }): LinkBuilder {
  const base = opts.publicUrl?.replace(/\/+$/, "");
  if (base && opts.signingSecret) {
    const key = deriveLinkKey(opts.signingSecret);
    return async (job, artifactKey) => `${base}/links/${signLink(key, { jobId: job.jobId, key: artifactKey, exp: job.expiresAt })}`;
  }
  return async (_job, artifactKey) => opts.artifacts.link(artifactKey);
}

/** An HTTP answer of the link endpoint. */
export type LinkResponse = { status: 302; location: string } | { status: 404 | 410; body: string };

/** Seconds the redirect's presigned URL lives: enough to download, no more. */
const REDIRECT_TTL_SECONDS = 300;

/** Answers `GET /links/<token>`: 302 to a fresh presigned URL, 404 for a bad token, 410 for an expired one. */
export async function serveLink(
  deps: { linkKey: Buffer; artifacts: Pick<Artifacts, "link">; now?: () => Date },
  token: string,
): Promise<LinkResponse> {
  const nowSec = Math.floor((deps.now?.() ?? new Date()).getTime() / 1000);
  const check = verifyLink(deps.linkKey, decodeURIComponent(token), nowSec);
  if (check.kind === "invalid") return { status: 404, body: "unknown link\n" };
  if (check.kind === "expired") return { status: 410, body: "this link has expired with its job (30 days)\n" };
  return { status: 302, location: await deps.artifacts.link(check.payload.key, REDIRECT_TTL_SECONDS) };
}
