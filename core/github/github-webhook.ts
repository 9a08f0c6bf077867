/**
 * GitHub webhooks on the bot (`POST /github/webhooks`): `pull_request` and `check_suite` events
 * for a `cody/<jobId>` branch refresh that repository's PR state at once, so Slack follows
 * without waiting for the schedule. Deliveries are signed with the webhook secret
 * (`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body>`); a bad or missing signature is
 * refused with 401 before the body is even parsed.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Logger } from "../runtime/index.ts";
import { refreshJob, type PrReader, type TrackingStore } from "./pr-tracking.ts";

/** True when `header` is GitHub's signature of `rawBody` with `secret` (constant-time compare). */
export function isValidWebhookSignature(secret: string, rawBody: string | Buffer, header: string | undefined): boolean {
  if (!secret || !header?.startsWith("sha256=")) return false;
  const want = Buffer.from(`sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`);
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

export type WebhookDeps = {
  store: TrackingStore & { getRepo(jobId: string, repositoryName: string, signal?: AbortSignal): Promise<{ prNumber?: number } | undefined> };
  readPr: PrReader;
  log: Logger;
  /** Called when a job's PR state was refreshed (the bot updates the root message). */
  onChanged?: (jobId: string, signal?: AbortSignal) => Promise<void>;
};

/** What to answer GitHub. */
export type WebhookAnswer = { status: number; body: string };

const BRANCH = /^cody\/(j-[a-z0-9]{10})$/;

/**
 * Handles one delivery: verifies the signature, then for a `pull_request` or `check_suite` event
 * on a `cody/<jobId>` branch of a repository of that job, refreshes that PR's row. 401 when the
 * signature is wrong, 400 for a body that is not JSON, 202 for events that concern no job.
 */
export async function handleGitHubWebhook(
  deps: WebhookDeps,
  input: { secret: string; event?: string; signature?: string; rawBody: string },
  signal?: AbortSignal,
): Promise<WebhookAnswer> {
  if (!isValidWebhookSignature(input.secret, input.rawBody, input.signature)) return { status: 401, body: "bad signature\n" };
  let payload: Payload;
  try {
    payload = JSON.parse(input.rawBody) as Payload;
  } catch {
    return { status: 400, body: "not JSON\n" };
  }
  const branch =
    input.event === "pull_request" ? payload.pull_request?.head?.ref : input.event === "check_suite" ? payload.check_suite?.head_branch ?? undefined : undefined;
  const repository = payload.repository?.full_name;
  const jobId = branch ? BRANCH.exec(branch)?.[1] : undefined;
  if (!jobId || !repository) return { status: 202, body: "ignored\n" };
  const row = await deps.store.getRepo(jobId, repository, signal);
  if (row?.prNumber === undefined) return { status: 202, body: "ignored\n" };
  const r = await refreshJob(deps, jobId, { only: [repository] }, signal);
  deps.log.info({ jobId, repo: repository, event: input.event, refreshed: r.refreshed }, "github webhook handled");
  await deps.onChanged?.(jobId, signal).catch((err: unknown) => deps.log.warn({ err, jobId }, "reporting a webhook change failed"));
  return { status: 200, body: "ok\n" };
}

type Payload = {
  repository?: { full_name?: string };
  pull_request?: { head?: { ref?: string } };
  check_suite?: { head_branch?: string | null };
};
