/**
 * Who may do what in Slack beyond `ALLOWED_SLACK_USERS`: start jobs that run commands (script
 * jobs, verify commands), see a job (`/cody list`, `/cody status`, "View diff"), and which Slack
 * workspaces the bot answers at all. Pure, except the team guard, which asks Slack once which
 * workspace the bot token belongs to.
 */
import type { App } from "@slack/bolt";
import type { Job } from "../core/jobs/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import type { BotSettings, Submission } from "./submission.ts";
import { FIELDS } from "./messages/modal.ts";

/**
 * True when `userId` may start a job that runs commands in the checkouts (a script, a verify
 * command): those run with the runner's reach, so an explicit list is required —
 * `ALLOWED_SCRIPT_USERS`, else `ALLOWED_SLACK_USERS`; with both empty, nobody may from Slack.
 */
export function canRunCommands(s: BotSettings, userId: string): boolean {
  const list = (s.allowedScriptUsers?.length ?? 0) > 0 ? s.allowedScriptUsers! : s.allowedSlackUsers;
  return list.length > 0 && list.includes(userId);
}

const NO_COMMANDS =
  "runs commands with Cody Batch's access, so it needs an explicit list of people, and you are not on it. " +
  "Ask an admin to add you to ALLOWED_SCRIPT_USERS (or ALLOWED_SLACK_USERS).";

/**
 * The modal errors (keyed by block id) when a submission runs commands its author may not run:
 * a script job on the instructions field, a verify command on the verify field. Undefined when allowed.
 */
export function commandRefusal(s: BotSettings, sub: Submission): Record<string, string> | undefined {
  const user = sub.request.createdBy;
  if (canRunCommands(s, user)) return undefined;
  const errors: Record<string, string> = {};
  if (sub.request.type === "script") errors[FIELDS.instructions] = `A shell script ${NO_COMMANDS}`;
  if (sub.request.verify) errors[FIELDS.verify] = `A verify command ${NO_COMMANDS}`;
  return Object.keys(errors).length > 0 ? errors : undefined;
}

/**
 * True when the person may see a job (its name, reasons, diffs): they started it, or they ask in
 * the channel where the job reports (everyone there sees its thread anyway). Jobs of other
 * channels — private ones included — stay hidden, whoever asks.
 */
export function canSee(job: Pick<Job, "createdBy" | "slack">, who: { userId: string; channel?: string }): boolean {
  return job.createdBy === who.userId || (who.channel !== undefined && job.slack?.channel === who.channel);
}

/** What a refused workspace reads. */
export const OTHER_TEAM = "This Cody Batch serves another Slack workspace; it does not take requests from yours.";

type Payload = {
  type?: string;
  command?: string;
  team_id?: string;
  user_team_id?: string;
  team?: { id?: string } | null;
  user?: { team_id?: string } | null;
  view?: { team_id?: string } | null;
};

/** Every team id a request names (the workspace, the person's own team, the view's team). */
export function teamsOf(body: unknown): string[] {
  const b = (body ?? {}) as Payload;
  const ids = [b.team_id, b.user_team_id, b.team?.id, b.user?.team_id, b.view?.team_id];
  return [...new Set(ids.filter((t): t is string => typeof t === "string" && t !== ""))];
}

/**
 * Registers, before every listener, a middleware that refuses requests from other workspaces:
 * every team id of the request must be in `ALLOWED_SLACK_TEAMS`, or (unset) be the bot token's
 * own team (`auth.test`, asked once and cached; a failure refuses and is asked again next time).
 * Commands get an ephemeral refusal, the job modal an inline error, buttons nothing; all logged.
 */
export function registerTeamGuard(app: App, deps: { settings: BotSettings; log: Logger }): void {
  let own: Promise<string | undefined> | undefined;
  app.use(async (args) => {
    let allowed = deps.settings.allowedSlackTeams ?? [];
    if (allowed.length === 0) {
      own ??= args.client.auth.test().then(
        (r) => r.team_id,
        (err: unknown) => {
          own = undefined;
          deps.log.error({ err: { message: (err as Error).message } }, "auth.test failed: cannot tell which workspace the bot serves");
          return undefined;
        },
      );
      const team = await own;
      allowed = team ? [team] : [];
    }
    const teams = teamsOf(args.body);
    if (teams.length > 0 && teams.every((t) => allowed.includes(t))) return args.next();
    deps.log.warn({ teams }, "request from another Slack workspace refused");
    const ack = (args as { ack?: (r?: unknown) => Promise<void> }).ack;
    if (!ack) return;
    const body = args.body as Payload;
    if (body.command) return ack({ response_type: "ephemeral", text: OTHER_TEAM });
    if (body.type === "view_submission") return ack({ response_action: "errors", errors: { [FIELDS.instructions]: OTHER_TEAM } });
    return ack();
  });
}

/**
 * The modal error when a submission asks for pull requests and the bot has no GitHub access
 * (`settings.githubAccess === false`): on the checkbox, or on the pasted spec. Undefined otherwise.
 */
export function gitHubRefusal(s: BotSettings, sub: Submission): Record<string, string> | undefined {
  if (s.githubAccess !== false || !sub.request.createPullRequests) return undefined;
  return {
    [sub.fromSpec ? FIELDS.spec : FIELDS.options]:
      "Opening pull requests needs GitHub access, and this Cody Batch has none (GITHUB_TOKEN or a GitHub App). Untick \"Open pull requests\" to preview the change.",
  };
}
