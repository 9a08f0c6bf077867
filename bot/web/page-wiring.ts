/**
 * The page's wiring from a config: the key its tokens are signed with (derived from
 * LINK_SIGNING_SECRET, which defaults to the Slack signing secret, core/config/config.ts), the URL of a
 * job's page under BOT_PUBLIC_URL, and the dependencies the route needs.
 */
import type { Artifacts } from "../../core/jobs/index.ts";
import { secretValues, type Config } from "../../core/config/index.ts";
import type { Job } from "../../core/jobs/index.ts";
import type { Logger } from "../../core/runtime/index.ts";
import type { Store } from "../../core/jobs/index.ts";
import { derivePageKey, pageUrl } from "./page-token.ts";
import type { PageDeps } from "./serve-page.ts";

/** The page-signing key of a config, or undefined without a signing secret. */
export function pageKeyOf(config: Pick<Config, "linkSecret">): Buffer | undefined {
  return config.linkSecret ? derivePageKey(config.linkSecret) : undefined;
}

/** `job => ${BOT_PUBLIC_URL}/jobs/<token>`, or undefined when the bot has no public URL or no secret. */
export function dashboardUrlOf(config: Pick<Config, "linkSecret" | "botPublicUrl">): ((job: Pick<Job, "jobId" | "expiresAt">) => string) | undefined {
  const key = pageKeyOf(config);
  const base = config.botPublicUrl;
  return key && base ? (job) => pageUrl(base, key, job) : undefined;
}

/** The route's dependencies, or undefined when pages cannot be signed. */
export function pageDepsOf(config: Config, parts: { store: Pick<Store, "getJob" | "listRepos">; artifacts: Pick<Artifacts, "get">; log: Logger }): PageDeps | undefined {
  const pageKey = pageKeyOf(config);
  return pageKey ? { pageKey, store: parts.store, artifacts: parts.artifacts, secrets: secretValues(config), log: parts.log } : undefined;
}
