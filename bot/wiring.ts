/**
 * Builds the bot's dependencies from a config: the one place the Slack client, the notifier, the
 * GitHub expansion of `owner/*` and `tell` are put together. Entry points (server.ts,
 * lambda.ts) add the store, artifacts, launcher and the `deferred` of their platform.
 */
import type { Artifacts } from "../core/artifacts.ts";
import type { Config } from "../core/config.ts";
import type { GitHub } from "../core/github.ts";
import type { Launcher } from "../core/launcher.ts";
import type { Logger } from "../core/log.ts";
import { newSlackClient, newSlackNotifierFromConfig } from "../core/slack-notifier.ts";
import type { Store } from "../core/store.ts";
import { newTell, type BotDeps } from "./app.ts";
import type { DeferredTask, ExpandOwner } from "./jobs.ts";
import { deriveLinkKey } from "./links.ts";

export type BotParts = {
  store: Store;
  artifacts: Artifacts;
  launcher: Launcher;
  deferred: (task: DeferredTask) => Promise<void>;
  /** Defaults to the GitHub API of the config (core/github.ts). */
  expandOwner?: ExpandOwner;
};

/** The listeners' dependencies for a config. */
export function newBotDeps(config: Config, log: Logger, parts: BotParts): BotDeps {
  const client = newSlackClient(config);
  // Octokit loads on the first owner/* expansion, not at cold start.
  let github: GitHub | undefined;
  const expandOwner: ExpandOwner =
    parts.expandOwner ??
    (async (owner, signal) => {
      const { listOwnerRepositories, newGitHub } = await import("../core/github.ts");
      return listOwnerRepositories((github ??= newGitHub(config, { log })).octokit, owner, signal);
    });
  return {
    store: parts.store,
    artifacts: parts.artifacts,
    launcher: parts.launcher,
    notifier: newSlackNotifierFromConfig(config, log, { client, artifacts: parts.artifacts, store: parts.store }),
    expandOwner,
    settings: { allowlist: config.allowlist, allowedSlackUsers: config.allowedSlackUsers },
    tell: newTell(client, log),
    log,
    deferred: parts.deferred,
  };
}

/** The key of stable links, when the bot has a public URL to serve them from. */
export function linkKeyOf(config: Config): Buffer | undefined {
  return config.botPublicUrl && config.slack.signingSecret ? deriveLinkKey(config.slack.signingSecret) : undefined;
}
