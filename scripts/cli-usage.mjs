// The `cody` CLI's usage text and command names, plain JavaScript so scripts/cody.mjs can answer
// `cody --help` without building or loading the bundle (README: `./cody --help` within node + 150 ms).

/** The usage of every command (`cody --help`). */
export const USAGE = `usage:
  cody run --repo OWNER/NAME [--repo …] (--prompt TEXT | --script CMD) [--name TEXT] [--pr] [--draft]
           [--base BRANCH] [--verify CMD] [--concurrency N] [--label L] [--reviewer U] [--team-reviewer T]
           [--assignee U] [--pr-interval SECONDS] [--json] [--plan] [--wide] [--judge | --no-judge] [--budget-usd N] [--heal N]
           [--branch NAME] [--on-conflict keep|skip|replace] [--allow-no-checks]
      or: cody run -f change.yaml [--plan] [--concurrency N] [--json]
           --repo also takes owner/*, "search: CODE QUERY", "repos: QUERY", "topic: NAME [owner:LOGIN]"
           (+ include:archived / include:forks); --plan prints what matches and runs nothing
  cody status JOB_ID [REPO] [--wide] [--json] [--timings]   a job's table (REPO: that repository in full; --timings: step times, slowest first)
  cody web JOB_ID [--port N]              the job's web page (its URL; served on 127.0.0.1 without a bot)
  cody list [--limit N] [--json]
  cody cancel JOB_ID
  cody logs JOB_ID [REPO]                 the runner logs of a job (or of one repository), readable
  cody dev                                the Slack bot on PORT (default 3000) over the embedded stack (make dev)
  cody playground [--port N]              the bot with local stand-ins for Slack and GitHub and a web page (make playground)
  cody runner --job JOB_ID --index N      run one repository exactly as an AWS Batch array child
  cody watchdog [--limit N] [--json]      fail repositories whose runner is gone, finalize stuck jobs
  cody demo                               what \`make run\` does (REPOS, PROMPT, SCRIPT, PR from the environment)
  cody stack status|start|stop [--json]   the embedded stack's daemon under CODY_DIR (default .cody)
  cody refresh JOB_ID [--json]            read every PR's state, checks and review from GitHub
  cody publish JOB_ID [--draft] [--json]  open PRs for a preview job from its stored diffs (runs nothing again)
  cody retry JOB_ID [--failed | --repo OWNER/NAME …] [--json]   rerun the failed (or named) repositories
  cody update JOB_ID [--all] [--json]     redo the change on the current base for PRs that conflict or are behind
  cody merge JOB_ID [--method squash|merge|rebase] [--force] [--allow-no-checks] [--keep-branch] [--json]   merge green PRs
  cody close JOB_ID [--comment TEXT] [--keep-branch] [--json]           close the open PRs and delete their branches
  cody import (JOB_ID | --branch NAME) [--repo SELECTOR …] [--json]     rebuild a job from its PRs on GitHub
  cody heal JOB_ID [--attempts N] [--json]   fix the PRs whose checks fail (agent on the PR branch, one new commit)
  cody doctor --env dev|prod [--json]     the daily and weekly checks of OPERATIONS.md, each with its result
  cody help                               this text
  --env dev|prod                          every command above but demo, runner, stack, dev, playground: the deployed stack (outputs of make deploy)`;

/** Every command `cody` takes, for "did you mean". */
export const COMMANDS = ["run", "status", "list", "cancel", "logs", "web", "runner", "watchdog", "demo", "dev", "playground", "stack", "refresh", "publish", "retry", "update", "merge", "close", "import", "heal", "doctor", "help"];

/**
 * The usage lines of one command (its first line and the continuation lines under it); all of
 * them for a command that has none.
 * @param {string} command
 * @returns {string}
 */
export function usageOf(command) {
  const lines = USAGE.split("\n").slice(1);
  const start = lines.findIndex((l) => l.startsWith(`  cody ${command} `));
  if (start < 0) return USAGE;
  const end = lines.findIndex((l, i) => i > start && l.startsWith("  cody "));
  return ["usage:", ...lines.slice(start, end < 0 ? undefined : end)].join("\n");
}
