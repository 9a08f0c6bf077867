/**
 * Builds the campaign actions' dependencies from a config: GitHub reads (PR tracking) and writes
 * (merge, close) through one Octokit client per owner, when the config has GitHub settings.
 * The bot loads this module on first use (Octokit is not needed at cold start).
 */
import { newCampaignForge } from "./campaign-forge.ts";
import type { CampaignDeps } from "./campaign.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../runtime/index.ts";
import { newPrReader, octokitPerOwner } from "../github/index.ts";

/** True when the config can reach GitHub's API (a token, an App, or an API URL for a test server). */
export function hasGitHub(config: Pick<Config, "github">): boolean {
  return Boolean(config.github.token || config.github.app || config.github.apiUrl);
}

/** The campaign dependencies: `parts` plus GitHub's forge and PR reader when configured. */
export function newCampaignDeps(
  config: Pick<Config, "github">,
  log: Logger,
  parts: Pick<CampaignDeps, "store" | "launcher"> & Partial<Pick<CampaignDeps, "announce" | "now">>,
): CampaignDeps {
  const octokitFor = hasGitHub(config) ? octokitPerOwner(config, log) : undefined;
  return { ...parts, log, ...(octokitFor ? { forge: newCampaignForge(octokitFor), readPr: newPrReader(octokitFor) } : {}) };
}
