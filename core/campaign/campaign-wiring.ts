/**
 * Builds the campaign actions' dependencies from a config: GitHub reads (PR tracking) and writes
 * (merge, close) through one Octokit client per owner, when the config has GitHub settings.
 * The bot loads this module on first use (Octokit is not needed at cold start).
 */
import { newCampaignForge } from "./campaign-forge.ts";
import type { CampaignDeps } from "./campaign.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../runtime/index.ts";
import { newFailureReader, newPrReader, octokitPerOwner, type FailureReader } from "../github/index.ts";

/**
 * True when the config has GitHub credentials (a token or an App). An API URL alone is not
 * access: requests without credentials would be sent unauthenticated.
 */
export function hasGitHub(config: Pick<Config, "github">): boolean {
  return Boolean(config.github.token || config.github.app);
}

/** The one line a campaign command needing GitHub prints (exit 2) when no credentials are configured. */
export function noGitHubReason(command: string): string {
  return `${command} needs GitHub access: set GITHUB_TOKEN (or a GitHub App); nothing was sent`;
}

/** The campaign dependencies: `parts` plus GitHub's forge and PR reader when configured. */
export function newCampaignDeps(
  config: Pick<Config, "github">,
  log: Logger,
  parts: Pick<CampaignDeps, "store" | "launcher"> & Partial<Pick<CampaignDeps, "announce" | "now">>,
): CampaignDeps & { readFailures?: FailureReader } {
  const octokitFor = hasGitHub(config) ? octokitPerOwner(config, log) : undefined;
  return { ...parts, log, ...(octokitFor ? { forge: newCampaignForge(octokitFor), readPr: newPrReader(octokitFor), readFailures: newFailureReader(octokitFor) } : {}) };
}
