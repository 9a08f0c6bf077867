/**
 * Builds the bot's dependencies from a config: the one place the Slack client, the notifier, the
 * GitHub expansion of `owner/*` and `tell` are put together. Entry points (server.ts,
 * lambda.ts) add the store, artifacts, launcher and the `deferred` of their platform.
 */
import type { Artifacts } from "../core/jobs/index.ts";
import type { Config } from "../core/config/index.ts";
import type { GitHub } from "../core/github/index.ts";
import type { Launcher } from "../core/launch/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import { newSlackClient, newSlackNotifierFromConfig } from "./slack-notifier.ts";
import type { Store } from "../core/jobs/index.ts";
import { BotConfigError, newTell, type BotDeps, type GitHubWebhookHandler } from "./app.ts";
import type { DeferredTask, ExpandOwner } from "./jobs.ts";
import type { TargetSource } from "../core/github/index.ts";
import { deriveLinkKey } from "./links.ts";

export type BotParts = {
  store: Store;
  artifacts: Artifacts;
  launcher: Launcher;
  deferred: (task: DeferredTask) => Promise<void>;
  /** Defaults to the GitHub API of the config (core/github/github.ts). */
  expandOwner?: ExpandOwner;
};

/**
 * Why the bot must not start with this config (server.ts exits 2 with it, lambda.ts fails its
 * cold start), or undefined: every missing setting at once, one a line — no bot token, no
 * signing secret outside Socket Mode, no `ALLOWED_REPOSITORIES` (a bot without an allowlist
 * would let anyone change any repository).
 */
export function botStartProblem(config: Config): string | undefined {
  const problems: string[] = [];
  if (!config.slack.botToken) problems.push("SLACK_BOT_TOKEN is not set: create the app from bot/manifest.yml and set its bot token (see README)");
  if (!config.slack.signingSecret && !config.slack.appToken) problems.push("SLACK_SIGNING_SECRET is empty: requests could not be verified (the app's Basic Information page has it)");
  if (config.allowlist.length === 0) {
    problems.push("ALLOWED_REPOSITORIES is not set: the bot would let anyone change any repository (set e.g. ALLOWED_REPOSITORIES='acme/*')");
  }
  if (problems.length === 0) return undefined;
  if (problems.length === 1) return problems[0];
  return `${problems.length} settings are missing:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
}

/** The listeners' dependencies for a config. Throws {@link BotConfigError} for a config the bot must not start with. */
export function newBotDeps(config: Config, log: Logger, parts: BotParts): BotDeps {
  const problem = botStartProblem(config);
  if (problem) throw new BotConfigError(problem);
  const client = newSlackClient(config);
  // Octokit loads on the first owner/* expansion, not at cold start.
  let github: GitHub | undefined;
  const expandOwner: ExpandOwner =
    parts.expandOwner ??
    (async (owner, signal) => {
      const { listOwnerRepositories, newGitHub } = await import("../core/github/github.ts");
      return listOwnerRepositories((github ??= newGitHub(config, { log })).octokit, owner, signal);
    });
  const targets: TargetSource = {
    listOwner: async (owner, signal) => (await lazyTargets()).listOwner(owner, signal),
    searchCode: async (query, signal) => (await lazyTargets()).searchCode(query, signal),
    searchRepositories: async (query, signal) => (await lazyTargets()).searchRepositories(query, signal),
  };
  let loaded: TargetSource | undefined;
  async function lazyTargets(): Promise<TargetSource> {
    if (loaded) return loaded;
    const [{ newGitHub }, { newGitHubTargets }] = await Promise.all([import("../core/github/github.ts"), import("../core/github/github-search.ts")]);
    return (loaded = newGitHubTargets((github ??= newGitHub(config, { log })).octokit));
  }
  // The campaign buttons' GitHub access, built on the first click (Octokit stays out of cold start).
  let campaign: Promise<Pick<import("../core/campaign/campaign-heal.ts").HealDeps, "forge" | "readPr" | "readFailures">> | undefined;
  const campaignGitHub = () =>
    (campaign ??= import("../core/campaign/campaign-wiring.ts").then((w) => {
      const d = w.newCampaignDeps(config, log, { store: parts.store, launcher: parts.launcher });
      return { ...(d.forge ? { forge: d.forge } : {}), ...(d.readPr ? { readPr: d.readPr } : {}), ...(d.readFailures ? { readFailures: d.readFailures } : {}) };
    }));
  return {
    campaignGitHub,
    store: parts.store,
    artifacts: parts.artifacts,
    launcher: parts.launcher,
    notifier: newSlackNotifierFromConfig(config, log, { client, artifacts: parts.artifacts, store: parts.store }),
    expandOwner,
    ...(parts.expandOwner ? {} : { targets }),
    updateView: async (viewId, hash, view) => {
      try {
        await client.views.update({ view_id: viewId, ...(hash ? { hash } : {}), view: view as never });
        return true;
      } catch (err) {
        // The person closed the modal or changed it meanwhile: nothing to update.
        if (/hash_conflict|not_found/.test((err as { data?: { error?: string } }).data?.error ?? "")) return false;
        throw err;
      }
    },
    settings: {
      allowlist: config.allowlist,
      allowedSlackUsers: config.allowedSlackUsers,
      allowedScriptUsers: config.allowedScriptUsers,
      ...(config.defaultJobBudgetUsd !== undefined ? { defaultJobBudgetUsd: config.defaultJobBudgetUsd } : {}),
      allowedSlackTeams: config.allowedSlackTeams,
      githubAccess: Boolean(config.github.token || config.github.app || config.github.apiUrl),
    },
    tell: newTell(client, log),
    log,
    deferred: parts.deferred,
  };
}

/** The key of stable links, when the bot has a public URL to serve them from. */
export function linkKeyOf(config: Config): Buffer | undefined {
  return config.botPublicUrl && config.linkSecret ? deriveLinkKey(config.linkSecret) : undefined;
}

/**
 * The GitHub webhook handler of a config (core/github/github-webhook.ts), or undefined without
 * GITHUB_WEBHOOK_SECRET. Octokit and the tracker load on the first delivery.
 */
export function githubWebhookOf(
  config: Config,
  log: Logger,
  parts: { store: Store; onChanged?: (jobId: string) => Promise<void> },
): GitHubWebhookHandler | undefined {
  const secret = config.github.webhookSecret;
  if (!secret) return undefined;
  let readPr: Promise<import("../core/github/pr-tracking.ts").PrReader> | undefined;
  return async (input) => {
    const [{ handleGitHubWebhook }, tracking] = await Promise.all([import("../core/github/github-webhook.ts"), import("../core/github/pr-tracking.ts")]);
    readPr ??= Promise.resolve(tracking.newPrReader(tracking.octokitPerOwner(config, log)));
    return handleGitHubWebhook({ store: parts.store, readPr: await readPr, log, ...(parts.onChanged ? { onChanged: parts.onChanged } : {}) }, { secret, ...input });
  };
}
