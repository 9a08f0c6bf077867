/**
 * What the bot does, as plain functions the listeners call: reading and checking a modal
 * submission, creating the job after the acknowledgement (expanding `owner/*`), authorization,
 * and the `/cody` text commands. No Bolt types here beyond plain JSON.
 */
import { createHash } from "node:crypto";
import { validateJobRequest, type CampaignAction, type FieldError, type Job, type JobRequest, type JobType } from "../core/jobs/index.ts";
import type { Launcher } from "../core/launch/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import type { Notifier } from "../core/jobs/index.ts";
import { parseOwnerGlob, type AllowPattern } from "../core/config/index.ts";
import { needsLookup, splitSelectors, type TargetSource } from "../core/github/index.ts";
import type { Store } from "../core/jobs/index.ts";
import { cancelJob, submitJob, type CancelDeps, type CancelResult, type SubmitResult } from "../core/launch/index.ts";
import { canSee, commandRefusal } from "./access.ts";
import { helpText, listText, statusText } from "./messages/ephemeral.ts";
import { escapeMrkdwn } from "./messages/text.ts";
import { FIELDS, type ModalMetadata, type ModalValues } from "./messages/modal.ts";
import { previewProblem, previewTargets, resolveSubmissionTargets, targetsBlock } from "./targets.ts";
import { canCancel, isAllowedUser, NOT_ALLOWED, type BotSettings, type ExpandOwner, type Submission, type Tell } from "./submission.ts";
import type { CommandDeps, CreateDeps, DeferredTask, TaskDeps } from "./task-types.ts";

// What used to be defined here and moved so that access.ts, targets.ts and campaign-tasks.ts need not import this file.
export * from "./submission.ts";
export type * from "./task-types.ts";

/** The job id of a modal view: the same view submitted twice maps to the same job. */
export function jobIdForView(viewId: string): string {
  const n = BigInt(`0x${createHash("sha256").update(`view:${viewId}`).digest("hex").slice(0, 16)}`);
  return `j-${n.toString(36).padStart(10, "0").slice(-10)}`;
}

type ViewValues = Record<string, Record<string, { value?: string | null; selected_option?: { value: string } | null; selected_options?: { value: string }[] }>>;

/** The modal's current values, to rebuild it with (views.update after a preview). */
export function modalValues(values: ViewValues): ModalValues {
  const v = (block: string) => values[block]?.value;
  const out: ModalValues = {};
  for (const key of ["name", "instructions", "repositories", "base_branch", "verify", "spec"] as const) {
    const t = v(key)?.value;
    if (t) out[key] = t;
  }
  const type = v(FIELDS.type)?.selected_option?.value;
  if (type) out.type = type;
  out.options = (v(FIELDS.options)?.selected_options ?? []).map((o) => o.value);
  return out;
}

/**
 * Reads the job modal's state into a submission; a pasted change spec replaces the other fields
 * (the YAML parser loads only then, not at cold start).
 */
export async function readSubmission(values: ViewValues, meta: ModalMetadata, userId: string): Promise<Submission> {
  const v = (block: string) => values[block]?.value;
  const text = (block: string) => (v(block)?.value ?? "").trim();
  const spec = text(FIELDS.spec);
  if (spec) return readSpecSubmission(await import("../core/spec/change-spec.ts"), spec, meta, userId);
  const type = (v(FIELDS.type)?.selected_option?.value ?? "code-pattern-update") as JobType;
  const options = new Set((v(FIELDS.options)?.selected_options ?? []).map((o) => o.value));
  const instructions = text(FIELDS.instructions);
  const { lines, owners, repositories, selectors } = classifyTargets(splitSelectors(text(FIELDS.repositories)));
  const request: JobRequest = {
    type,
    ...(text(FIELDS.name) ? { name: text(FIELDS.name) } : {}),
    ...(type === "script" ? { script: instructions } : { prompt: instructions }),
    ...(text(FIELDS.verify) ? { verify: text(FIELDS.verify) } : {}),
    ...(text(FIELDS.baseBranch) ? { baseBranch: text(FIELDS.baseBranch) } : {}),
    repositories,
    createPullRequests: options.has("pr"),
    ...(options.has("pr") ? { pullRequest: { draft: options.has("draft") } } : {}),
    createdBy: userId,
    slack: { teamId: meta.teamId, channel: meta.channel },
  };
  return { request, repositories, owners, lines, selectors };
}

function classifyTargets(lines: string[]): Pick<Submission, "lines" | "owners" | "repositories" | "selectors"> {
  const owners: string[] = [];
  const repositories: string[] = [];
  const selectors: string[] = [];
  for (const line of lines) {
    const glob = parseOwnerGlob(line);
    if (glob) owners.includes(glob.owner) || owners.push(glob.owner);
    else if (needsLookup(line)) selectors.push(line);
    else repositories.push(line);
  }
  return { lines, owners, repositories, selectors };
}

function readSpecSubmission(
  { parseChangeSpec, formatSpecErrors }: typeof import("../core/spec/change-spec.ts"),
  yamlText: string,
  meta: ModalMetadata,
  userId: string,
): Submission {
  const slack = { teamId: meta.teamId, channel: meta.channel };
  const parsed = parseChangeSpec(yamlText);
  if (parsed.kind === "invalid") {
    const request: JobRequest = { type: "script", script: "-", repositories: [], createdBy: userId, slack };
    return { request, repositories: [], owners: [], lines: [], selectors: [], fromSpec: true, specError: formatSpecErrors("line", parsed.errors).replace(/^line:/gm, "line ") };
  }
  const targets = classifyTargets(parsed.selectors);
  return { request: { ...parsed.request, repositories: targets.repositories, createdBy: userId, slack }, ...targets, fromSpec: true };
}

const BLOCK_OF: Record<FieldError["field"], string> = {
  name: FIELDS.name,
  type: FIELDS.type,
  prompt: FIELDS.instructions,
  script: FIELDS.instructions,
  verify: FIELDS.verify,
  baseBranch: FIELDS.baseBranch,
  commitMessage: FIELDS.options,
  repositories: FIELDS.repositories,
  pullRequest: FIELDS.options,
  createPullRequests: FIELDS.options,
  createdBy: FIELDS.name,
  slack: FIELDS.name,
};

/**
 * Checks a submission before the acknowledgement: every field rule, the allowlist for explicit
 * repositories, and for `owner/*` that the owner is allowed at all. Returns the errors keyed by
 * block id (what `response_action: "errors"` takes), or undefined when it may go ahead.
 */
export function checkSubmission(sub: Submission, allowlist: readonly AllowPattern[], meta?: ModalMetadata): Record<string, string> | undefined {
  if (sub.specError) return { [FIELDS.spec]: sub.specError.slice(0, 2000) };
  const errors: Record<string, string> = {};
  const globProblems = sub.owners
    .filter((o) => !allowlist.some((p) => p.owner === o.toLowerCase()))
    .map((o) => `${o}/* is not in the allowed repositories (${allowlist.map((p) => p.source).join(", ") || "none configured"})`);
  const checked = validateJobRequest(sub.request, allowlist);
  if (checked.kind === "invalid") {
    for (const e of checked.errors) {
      // With owner/* and selector lines, "no repository" is decided after the expansion.
      if (e.field === "repositories" && sub.owners.length + sub.selectors.length > 0 && sub.repositories.length === 0) continue;
      const block = e.field === "repositories" ? targetsBlock(sub) : sub.fromSpec ? FIELDS.spec : BLOCK_OF[e.field];
      errors[block] = errors[block] ? `${errors[block]}; ${e.message}` : e.message;
    }
  }
  const previewed = meta ? previewProblem(sub, meta) : undefined;
  if (globProblems.length > 0 || previewed) {
    const block = targetsBlock(sub);
    const prev = errors[block];
    errors[block] = [...globProblems, ...(previewed ? [previewed] : []), ...(prev ? [prev] : [])].join("; ");
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}

/**
 * The deferred half of a submission: expand, validate in full, create the job (idempotent on
 * the job id), post the thread root and launch. Problems go to the person as a DM; nothing is
 * written when the request is invalid. Never throws.
 */
export async function createJobFromSubmission(
  deps: CreateDeps,
  task: Extract<DeferredTask, { kind: "create_job" }>,
  signal?: AbortSignal,
): Promise<SubmitResult | { kind: "invalid"; message: string } | { kind: "error" }> {
  const { submission, jobId } = task;
  const user = submission.request.createdBy;
  const log = deps.log.child({ jobId });
  try {
    // Checked before the acknowledgement too; a task is re-checked against today's settings.
    const refusal = commandRefusal(deps.settings, submission);
    if (refusal) {
      const message = Object.values(refusal).join("; ");
      await deps.tell({ userId: user }, `Your job was not started: ${message}`, signal);
      return { kind: "invalid", message };
    }
    // Old tasks (queued before selectors) carry no lines: names first, then owner/*, as before.
    const lines = submission.lines ?? [...submission.repositories, ...submission.owners.map((o) => `${o}/*`)];
    const resolved = await resolveSubmissionTargets(deps, lines, signal);
    const checked = resolved.kind === "ok"
      ? validateJobRequest({ ...submission.request, repositories: resolved.repositories }, deps.settings.allowlist)
      : undefined;
    if (resolved.kind === "invalid" || checked?.kind !== "ok") {
      const message = resolved.kind === "invalid"
        ? resolved.errors.join("; ")
        : checked?.kind === "invalid" ? checked.errors.map((e) => e.message).join("; ") : "invalid request";
      await deps.tell({ userId: user }, `Your job was not started: ${message}.`, signal);
      return { kind: "invalid", message };
    }
    const result = await submitJob(deps, { jobId, request: checked.request }, signal);
    log.info({ kind: result.kind, repositories: checked.request.repositories.length }, "job submission handled");
    return result;
  } catch (err) {
    log.error({ err }, "creating the job failed");
    await deps.tell({ userId: user }, `Your job could not be started: internal error (job ${jobId}). Please try again.`, signal).catch(() => undefined);
    return { kind: "error" };
  }
}

/** What a `/cody …` command asks the listener to do. */
export type CommandAnswer = { kind: "open_modal" } | { kind: "reply"; text: string } | { kind: "cancel"; jobId: string };

/** How many recent jobs `/cody list` looks through for the ones the person may see. */
const LIST_SCAN = 50;

/**
 * Interprets `/cody <text>` for `userId` typed in `channel`: help, list, status, cancel, or the
 * modal. `list` and `status` show only jobs the person may see (see access.ts `canSee`).
 */
export async function runCommand(deps: CommandDeps, input: { text: string; userId: string; channel?: string }, signal?: AbortSignal): Promise<CommandAnswer> {
  const [word = "", arg] = input.text.trim().split(/\s+/);
  const verb = word.toLowerCase();
  if (verb === "help") return { kind: "reply", text: helpText() };
  if (!isAllowedUser(deps.settings, input.userId)) return { kind: "reply", text: NOT_ALLOWED };
  const now = deps.now?.() ?? new Date();
  switch (verb) {
    case "":
      return { kind: "open_modal" };
    case "list":
      return { kind: "reply", text: listText((await deps.store.listJobs(LIST_SCAN, signal)).filter((j) => canSee(j, input)).slice(0, 10), now) };
    case "status": {
      if (!arg) return { kind: "reply", text: "Which job? `/cody status <job>` (see `/cody list`)." };
      const job = await deps.store.getJob(arg, signal);
      // A job one may not see answers like a missing one: its existence is not told either.
      if (!job || !canSee(job, input)) return { kind: "reply", text: `No job \`${escapeMrkdwn(arg)}\` that you can see. See \`/cody list\`.` };
      return { kind: "reply", text: statusText(job, await deps.store.listRepos(arg, signal), now) };
    }
    case "cancel": {
      if (!arg) return { kind: "reply", text: "Which job? `/cody cancel <job>` (see `/cody list`)." };
      const job = await deps.store.getJob(arg, signal);
      if (!job) return { kind: "reply", text: cancelText({ kind: "not_found" }, arg) };
      if (!canCancel(deps.settings, job, input.userId)) return { kind: "reply", text: cancelText({ kind: "refused", job }, arg) };
      return { kind: "cancel", jobId: arg };
    }
    default:
      return { kind: "reply", text: `I don't know \`${escapeMrkdwn(word)}\`.\n${helpText()}` };
  }
}

/** Outcome of a cancel request, including a refusal. */
export type CancelAnswer = CancelResult | { kind: "refused"; job: Job };

/** Cancels a job when `userId` may; refreshes its root message. */
export async function cancelAs(deps: CommandDeps, input: { jobId: string; userId: string }, signal?: AbortSignal): Promise<CancelAnswer> {
  const job = await deps.store.getJob(input.jobId, signal);
  if (!job) return { kind: "not_found" };
  if (!canCancel(deps.settings, job, input.userId)) return { kind: "refused", job };
  const result = await cancelJob(deps, { jobId: input.jobId, by: input.userId }, signal);
  if (result.kind === "cancelled") await deps.notifier.refreshRoot?.(input.jobId, signal);
  return result;
}

/** What people read after a cancel request. */
export function cancelText(r: CancelAnswer, jobId: string): string {
  switch (r.kind) {
    case "not_found":
      return `No job \`${escapeMrkdwn(jobId)}\`. See \`/cody list\`.`;
    case "refused":
      return `Only the job's creator (<@${r.job.createdBy}>) or an admin can cancel \`${jobId}\`.`;
    case "already_finished":
      return `Job \`${jobId}\` already ended (${r.job.status.toLowerCase()}); nothing to cancel.`;
    case "cancelled":
      return `Job \`${jobId}\` is cancelled: ${r.pendingCancelled} repositories will not start, running ones stop at their next step.`;
  }
}

/** Runs a deferred task; never throws (problems are logged and told to the person). */
export async function runDeferredTask(deps: TaskDeps, task: DeferredTask, signal?: AbortSignal): Promise<void> {
  if (task.kind === "create_job") {
    await createJobFromSubmission(deps, task, signal);
    return;
  }
  if (task.kind === "preview_targets") {
    const { updateView } = deps;
    if (updateView) await previewTargets({ ...deps, updateView }, task, signal);
    else deps.log.warn("no views.update wired; the preview is dropped");
    return;
  }
  if (task.kind === "campaign") {
    await (await import("./campaign-tasks.ts")).runCampaignTask(deps, task, signal);
    return;
  }
  const to = { userId: task.userId, ...(task.channel ? { channel: task.channel } : {}) };
  try {
    const r = await cancelAs(deps, { jobId: task.jobId, userId: task.userId }, signal);
    await deps.tell(to, cancelText(r, task.jobId), signal);
  } catch (err) {
    deps.log.error({ err, jobId: task.jobId }, "cancelling the job failed");
    await deps.tell(to, `Cancelling \`${task.jobId}\` failed: internal error (job ${task.jobId}). Please try again.`, signal).catch(() => undefined);
  }
}
