/**
 * The bot's vocabulary shared by bot/jobs.ts and the files it calls (access.ts, targets.ts):
 * who may do what, and a modal submission. In a file of its own so that they need not import
 * jobs.ts back.
 */
import type { Job, JobRequest } from "../core/jobs/index.ts";
import type { AllowPattern } from "../core/config/index.ts";

/** Who may do what (see access.ts for commands, visibility and workspaces). */
export type BotSettings = {
  allowlist: readonly AllowPattern[];
  allowedSlackUsers: readonly string[];
  /** ALLOWED_SCRIPT_USERS: who may start script jobs and verify commands (empty: ALLOWED_SLACK_USERS). */
  allowedScriptUsers?: readonly string[];
  /** ALLOWED_SLACK_TEAMS: workspaces the bot answers (empty: the bot token's own). */
  allowedSlackTeams?: readonly string[];
  /** DEFAULT_JOB_BUDGET_USD: the cap of a job whose request names none (issue 19). */
  defaultJobBudgetUsd?: number;
  /** False when the bot has no GitHub settings: pull requests are refused in the modal (undefined: not checked). */
  githubAccess?: boolean;
};

/** Lists an owner's non-archived repositories (`owner/name`); wired to core/github/github.ts by entry points. */
export type ExpandOwner = (owner: string, signal?: AbortSignal) => Promise<string[]>;

/** A modal submission, read but not yet expanded. */
export type Submission = {
  request: JobRequest;
  /** Explicit `owner/name` lines. */
  repositories: string[];
  /** Owners of `owner/*` lines, to expand after the acknowledgement. */
  owners: string[];
  /** Every target line in the order typed (names, `owner/*`, selectors): what is resolved. */
  lines: string[];
  /** The `search:`, `repos:` and `topic:` lines (they need a preview before the job starts). */
  selectors: string[];
  /** The request came from the pasted change spec. */
  fromSpec?: boolean;
  /** The pasted spec's problems (`line N: field: message`), when it is wrong. */
  specError?: string;
};

/** Where to tell a person something: ephemeral in `channel` when given, else a direct message. */
export type Tell = (to: { userId: string; channel?: string }, text: string, signal?: AbortSignal) => Promise<void>;

/** True when the user may use the bot (everyone when ALLOWED_SLACK_USERS is empty). */
export function isAllowedUser(s: BotSettings, userId: string): boolean {
  return s.allowedSlackUsers.length === 0 || s.allowedSlackUsers.includes(userId);
}

/** The job's creator may cancel it; so may users listed in ALLOWED_SLACK_USERS when it is set. */
export function canCancel(s: BotSettings, job: Pick<Job, "createdBy">, userId: string): boolean {
  return job.createdBy === userId || (s.allowedSlackUsers.length > 0 && s.allowedSlackUsers.includes(userId));
}

export const NOT_ALLOWED = "Sorry, Cody Batch is limited to a list of people in this workspace, and you are not on it yet. Ask an admin to add you to ALLOWED_SLACK_USERS.";
