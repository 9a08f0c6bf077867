/**
 * Builds the runner's dependencies from a config: the one place that knows every adapter.
 * runner/main.ts (one repository per process, as in AWS Batch) and the local in-process
 * executor (many repositories in one process) both use it.
 */
import { secretValues, type Config } from "../core/config/index.ts";
import { newArtifacts } from "../core/jobs/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import { newConsoleNotifier, type Notifier } from "../core/jobs/index.ts";
import { newStore, newDynamoClient, type RequestCounter } from "../core/jobs/index.ts";
import { newGitHub } from "../core/github/index.ts";
import { newSlackNotifierFromConfig } from "../bot/slack-notifier.ts";
import { isClaudeConfigured, modelFor, newModelClient } from "./agent/client.ts";
import { newClaudeAgent } from "./agent/claude-agent.ts";
import { agentLimitsFrom } from "./agent/limits.ts";
import { newPullRequestDeps, openOrUpdatePullRequest } from "./pull-request.ts";
import type { RepoForge, RunRepoDeps } from "./run-repo.ts";
import { sandboxFor } from "./sandbox.ts";

/** Optional pieces wired in by later layers (Claude, GitHub, Slack), and counters for benchmarks. */
export type RunnerExtras = {
  notifier?: Notifier;
  dynamoCounter?: RequestCounter;
};

/**
 * The runner's dependencies for a config: Slack when SLACK_BOT_TOKEN is set (else the console),
 * Claude when a key or base URL is set, GitHub (git token, pull requests) when a token, an App
 * or GITHUB_API_URL is set; a sandbox for the person's commands when the process is root
 * (else a warning in the log). `env` supplies the agent's limits (CLAUDE_MAX_TURNS …). Throws
 * ConfigError for a bad limit; adapters connect lazily.
 */
export function newRunnerDeps(config: Config, log: Logger, extras: RunnerExtras = {}, env: NodeJS.ProcessEnv = process.env): RunRepoDeps {
  // One DynamoDB client for the store, the Slack notifier's reply coordination and the PR rate gate.
  const dynamo = newDynamoClient(config, extras.dynamoCounter);
  const store = newStore(config, dynamo);
  const artifacts = newArtifacts(config);
  const secrets = secretValues(config);
  const hasGitHub = Boolean(config.github.token || config.github.app || config.github.apiUrl);
  const forgeFor = (repository: string): RepoForge => {
    const gh = newGitHub(config, { log, repository });
    return {
      gitToken: () => gh.gitToken(),
      pullRequests: (input, signal) => openOrUpdatePullRequest(newPullRequestDeps(config, gh.octokit, log, { dynamo }), input, signal),
    };
  };
  // Root (the container): each command gets an unprivileged uid; otherwise the log says once why not.
  const sandbox = sandboxFor({ ...config.sandbox, info: (msg) => log.info(msg) }, (msg) => log.warn(msg));
  const agent = isClaudeConfigured(config)
    ? newClaudeAgent({ client: newModelClient(config), log, secrets }, { model: modelFor(config), limits: agentLimitsFrom(env) })
    : undefined;
  return {
    store,
    artifacts,
    notifier: extras.notifier ?? (config.slack.botToken ? newSlackNotifierFromConfig(config, log, { store, artifacts, dynamo }) : newConsoleNotifier(log)),
    log,
    ...(hasGitHub ? { forgeFor } : {}),
    ...(agent ? { agent } : {}),
    ...(sandbox ? { sandbox } : {}),
    settings: {
      gitBaseUrl: config.gitBaseUrl,
      scriptTimeoutSeconds: config.scriptTimeoutSeconds,
      maxAttempts: config.maxAttempts,
      heartbeatSeconds: config.heartbeatSeconds,
      ...(config.workDir ? { workDir: config.workDir } : {}),
      secrets,
      allowlist: config.allowlist,
      ...config.limits,
    },
  };
}
