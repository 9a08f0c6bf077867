/**
 * The deferred tasks of the bot (work done after Slack's acknowledgement) and what they need,
 * shared by bot/jobs.ts and bot/campaign-tasks.ts (which jobs.ts loads on first use), and
 * what the listeners use (bot/listeners/, registered by bot/app.ts).
 */
import type { CampaignAction } from "../core/jobs/index.ts";
import type { Launcher, CancelDeps } from "../core/launch/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import type { Artifacts, Notifier, Store } from "../core/jobs/index.ts";
import type { TargetSource } from "../core/github/index.ts";
import type { BotSettings, ExpandOwner, Submission, Tell } from "./submission.ts";
import type { PreviewTask } from "./targets.ts";

/** Work done after Slack got its acknowledgement (on Lambda: in an asynchronous self-invocation). */
export type DeferredTask =
  | { kind: "create_job"; jobId: string; submission: Submission }
  | PreviewTask
  | { kind: "cancel_job"; jobId: string; userId: string; channel?: string }
  /** A campaign button (bot/campaign-tasks.ts). */
  | { kind: "campaign"; action: CampaignAction; jobId: string; userId: string; channel?: string };

/** What creating a job from a submission needs. */
export type CreateDeps = {
  store: Pick<Store, "createJob" | "setJobFields" | "getJob">;
  launcher: Pick<Launcher, "submit">;
  notifier: Pick<Notifier, "jobCreated">;
  expandOwner: ExpandOwner;
  /** Code and repository search for selectors (core/github/github-search.ts); without it, only names and owner/* work. */
  targets?: TargetSource;
  /** `views.update` (with the view's hash) for the "Preview targets" answer; false when the view moved on. */
  updateView?: (viewId: string, hash: string | undefined, view: unknown, signal?: AbortSignal) => Promise<boolean>;
  settings: BotSettings;
  /** Tells a person about problems found after the acknowledgement. */
  tell: Tell;
  log: Logger;
};

/** What the `/cody` text commands and Cancel need. */
export type CommandDeps = {
  store: CancelDeps["store"] & Pick<Store, "listJobs" | "listUnfinishedJobs" | "getJob" | "listRepos" | "countRepo">;
  launcher: Pick<Launcher, "cancel">;
  notifier: Pick<Notifier, "jobFinished" | "progress"> & { refreshRoot?: (jobId: string, signal?: AbortSignal) => Promise<void> };
  settings: BotSettings;
  log: Logger;
  now?: () => Date;
};

/** Everything the deferred tasks need (the campaign's GitHub access loaded on first use). */
export type TaskDeps = CreateDeps & CommandDeps & {
  store: import("../core/campaign/campaign.ts").CampaignDeps["store"];
  campaignGitHub?: () => Promise<Pick<import("../core/campaign/campaign.ts").CampaignDeps, "forge" | "readPr">>;
};

/** What the listeners use. */
export type BotDeps = TaskDeps & {
  store: TaskDeps["store"] & Pick<Store, "getRepo">;
  artifacts: Pick<Artifacts, "get">;
  /** Runs a task after the acknowledgement: in-process locally, an async self-invocation on Lambda. */
  deferred: (task: DeferredTask) => Promise<void>;
};
