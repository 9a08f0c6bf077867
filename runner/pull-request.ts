/**
 * Pull requests: after a branch `cody/<jobId>` is pushed, open one pull request for it, or
 * update the one that is already open (a retried runner, a PR made by an earlier attempt), and
 * decorate it with labels, reviewers and assignees. GitHub is reached through the {@link Forge}
 * port; {@link newGitHubForge} is its Octokit adapter.
 * Over 400 lines for now: the open-or-update orchestration reads better whole (a split of the
 * Forge adapter into its own file is left for when this file is quiet).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DiffStats, Job } from "../core/jobs/index.ts";
import { fillPlaceholders, pullRequestOptions } from "../core/jobs/index.ts";
import { statusOf, type GitHubClient } from "../core/github/index.ts";
import { redact, type Logger } from "../core/runtime/index.ts";
import { acquirePrSlot, prRateGateDeps, type PrSlotResult } from "../core/github/index.ts";
import { secretValues, type Config } from "../core/config/index.ts";
import { inertMarkdown } from "./change-text.ts";
import { CODEOWNERS_PATHS, codeOwnerReviewers, parseCodeOwners } from "./code-owners.ts";

/** The label every Cody Batch pull request carries. */
export const CODY_LABEL = { name: "cody-batch", color: "5319e7", description: "Opened by Cody Batch" } as const;

export type RepoRef = { owner: string; name: string };

/** An open pull request as the forge reports it. */
export type PullRequestRef = {
  number: number;
  url: string;
  base: string;
  labels: string[];
  requestedReviewers: string[];
  requestedTeams: string[];
  assignees: string[];
};

export type NewPullRequest = { repo: RepoRef; head: string; base: string; title: string; body: string; draft: boolean };

/** GitHub as the pull-request code uses it. Methods throw {@link ForgeError} for access and rate problems. */
export type Forge = {
  /** The repository's default branch. */
  defaultBranch(repo: RepoRef, signal: AbortSignal): Promise<string>;
  /** The open pull request whose head is `head` in the repository itself, if any. */
  findOpenPullRequest(repo: RepoRef, head: string, signal: AbortSignal): Promise<PullRequestRef | undefined>;
  /** Opens a PR; `exists` when one is already open for the head, `no_changes` when head has no commits over base. */
  createPullRequest(pr: NewPullRequest, signal: AbortSignal): Promise<{ kind: "created"; pr: PullRequestRef } | { kind: "exists" } | { kind: "no_changes" }>;
  updatePullRequest(repo: RepoRef, number: number, fields: { title: string; body: string; base?: string }, signal: AbortSignal): Promise<void>;
  /** Creates the label unless the repository has it. */
  ensureLabel(repo: RepoRef, label: { name: string; color: string; description?: string }, signal: AbortSignal): Promise<void>;
  addLabels(repo: RepoRef, number: number, labels: string[], signal: AbortSignal): Promise<void>;
  requestReviewers(repo: RepoRef, number: number, who: { reviewers: string[]; teamReviewers: string[] }, signal: AbortSignal): Promise<void>;
  addAssignees(repo: RepoRef, number: number, assignees: string[], signal: AbortSignal): Promise<void>;
  /** Paths the pull request changes (for CODEOWNERS reviewers). */
  listPullRequestFiles?(repo: RepoRef, number: number, signal: AbortSignal): Promise<string[]>;
  /** A file's text at `ref`, or undefined when there is no such file. */
  readFile?(repo: RepoRef, path: string, ref: string, signal: AbortSignal): Promise<string | undefined>;
};

/**
 * A GitHub answer that is an expected outcome for one repository, translated at the adapter:
 * no access (401/403/404), rate limits, or another refusal (400, 409, 410, 422, 451, 5xx after
 * retries). `github` quotes what GitHub said (`HTTP 422: Validation Failed: base invalid`),
 * token-free and cut, for the person's reason.
 */
export class ForgeError extends Error {
  override name = "ForgeError";
  readonly github?: string;
  constructor(
    readonly kind: "no_access" | "rate_limited" | "refused",
    message: string,
    options?: { cause?: unknown; github?: string },
  ) {
    super(message, options);
    this.github = options?.github;
  }
}

/** What the runner knows when it asks for a pull request. */
export type PullRequestInput = {
  job: Pick<Job, "jobId" | "name" | "type" | "prompt" | "script" | "verify" | "pullRequest" | "slack">;
  /** `owner/name`. */
  repository: string;
  /** The pushed branch, `cody/<jobId>`. */
  head: string;
  /** Base branch; undefined → the repository's default branch from the API. */
  base?: string;
  /** Claude's summary of the change. */
  summary?: string;
  diffStats?: DiffStats;
  verify?: { ok: boolean; output?: string; reason?: string };
  /** Link to the job's Slack thread (e.g. from chat.getPermalink); built from `job.slack` when absent. */
  slackThreadUrl?: string;
};

export type PullRequestOutcome =
  | { kind: "opened" | "updated"; url: string; number: number }
  | { kind: "no_changes" }
  | { kind: "failed"; reason: string };

export type PullRequestDeps = {
  forge: Forge;
  log: Logger;
  /** Cross-runner pacing of creations (core/github/pr-rate-gate.ts); absent → no pacing beyond Octokit's. */
  acquireSlot?: (req: { jobId: string; minIntervalSeconds: number }, signal: AbortSignal) => Promise<PrSlotResult>;
  /** Secret values removed from the body. */
  secrets?: readonly string[];
};

/**
 * Production wiring: the Forge over `octokit` (from core/github/github.ts `newGitHub`), the config's
 * secrets, and the DynamoDB rate gate on the jobs table. Each creation may wait for a slot up to
 * `slotBudgetMs` (default 15 minutes) from the moment it asks. No I/O until used.
 */
export function newPullRequestDeps(
  config: Config,
  octokit: GitHubClient,
  log: Logger,
  opts: { slotBudgetMs?: number; dynamo?: DynamoDBClient } = {},
): PullRequestDeps {
  const gate = { ...prRateGateDeps(config, opts.dynamo), log };
  const budget = opts.slotBudgetMs ?? 15 * 60_000;
  return {
    forge: newGitHubForge(octokit),
    log,
    secrets: secretValues(config),
    acquireSlot: (req, signal) => acquirePrSlot(gate, { ...req, deadline: new Date(Date.now() + budget) }, signal),
  };
}

/**
 * Ends with exactly one open pull request from `input.head` for the repository: updates the open
 * one when there is one (title, body, base when given), else takes a rate slot and creates it
 * (a concurrent creation → updated). Then adds the `cody-batch` label and the job's labels
 * (created when missing), reviewers, team reviewers and assignees that are not there yet; a
 * failure there is logged and never fails the repository.
 * Returns `no_changes` for "No commits between", `failed` with a reason for people on missing
 * access (401/403/404), exhausted rate limits or no rate slot in time. Throws on other errors.
 */
export async function openOrUpdatePullRequest(deps: PullRequestDeps, input: PullRequestInput, signal: AbortSignal): Promise<PullRequestOutcome> {
  const [owner = "", name = ""] = input.repository.split("/");
  const repo = { owner, name };
  const log = deps.log.child({ repo: input.repository, step: "pull_request" });
  const options = pullRequestOptions(input.job.pullRequest);
  const title = fillPlaceholders(options.title ?? input.job.name, input).slice(0, 256);
  const body = redact(pullRequestBody(input), deps.secrets ?? []);
  try {
    const base = input.base ?? (await deps.forge.defaultBranch(repo, signal));
    let existing = await deps.forge.findOpenPullRequest(repo, input.head, signal);
    let kind: "opened" | "updated" = "updated";
    if (!existing) {
      if (deps.acquireSlot) {
        const slot = await deps.acquireSlot({ jobId: input.job.jobId, minIntervalSeconds: options.minIntervalSeconds }, signal);
        if (slot.kind === "timed_out") return { kind: "failed", reason: slot.reason };
      }
      const created = await deps.forge.createPullRequest({ repo, head: input.head, base, title, body, draft: options.draft }, signal);
      if (created.kind === "no_changes") return { kind: "no_changes" };
      if (created.kind === "created") {
        existing = created.pr;
        kind = "opened";
      } else {
        existing = await deps.forge.findOpenPullRequest(repo, input.head, signal);
        if (!existing) throw new Error(`GitHub says a pull request exists for ${input.head} in ${input.repository} but lists none`);
      }
    }
    if (kind === "updated") {
      await deps.forge.updatePullRequest(repo, existing.number, { title, body, ...(input.base && input.base !== existing.base ? { base: input.base } : {}) }, signal);
    }
    const owners = options.reviewersFromCodeOwners ? await codeOwnersOf(deps.forge, repo, existing.number, base, log, signal) : undefined;
    await decorate(deps.forge, repo, existing, owners ? { ...options, reviewers: unique([...options.reviewers, ...owners.reviewers]), teamReviewers: unique([...options.teamReviewers, ...owners.teamReviewers]) } : options, log, signal);
    log.info({ number: existing.number, kind }, "pull request ready");
    return { kind, url: existing.url, number: existing.number };
  } catch (err) {
    if (err instanceof ForgeError) {
      log.warn({ kind: err.kind, status: statusOf(err.cause), github: err.github }, "pull request failed");
      return { kind: "failed", reason: redact(forgeReason(err, input.repository), deps.secrets ?? []) };
    }
    throw new Error(`pull request for ${input.repository}`, { cause: err });
  }
}

/**
 * The repository's default branch, for a runner that needs the base before cloning.
 * Returns `failed` with the access reason on 401/403/404; throws on other errors.
 */
export async function defaultBranch(
  deps: { forge: Forge },
  repository: string,
  signal: AbortSignal,
): Promise<{ kind: "ok"; branch: string } | { kind: "failed"; reason: string }> {
  const [owner = "", name = ""] = repository.split("/");
  try {
    return { kind: "ok", branch: await deps.forge.defaultBranch({ owner, name }, signal) };
  } catch (err) {
    if (err instanceof ForgeError) return { kind: "failed", reason: forgeReason(err, repository) };
    throw new Error(`default branch of ${repository}`, { cause: err });
  }
}

/** The reason people read for a {@link ForgeError} on `repository`. */
function forgeReason(err: ForgeError, repository: string): string {
  if (err.kind !== "no_access") return err.message;
  return `token has no push access to ${repository}${err.github ? ` (GitHub ${err.github})` : ""}`;
}

/** The marker that identifies a Cody Batch pull request of a job. */
export function pullRequestMarker(jobId: string): string {
  return `<!-- cody-batch:job=${jobId} -->`;
}

const BODY_MAX = 60_000; // GitHub refuses bodies over 65,536 characters

/**
 * The pull request description: what was asked (instructions or script), Claude's summary,
 * the diff stats, the verify result, a link to the Slack thread, and the job marker. The job's
 * name, instructions and Claude's summary are made inert (change-text.ts: no issue references,
 * mentions, HTML or forged marker); the script sits in a code fence. With the job's body
 * template, the template (placeholders filled, `{{details}}` = those sections) follows the
 * marker instead. Pure.
 */
export function pullRequestBody(input: PullRequestInput): string {
  const { job } = input;
  const parts: string[] = [];
  if (job.type === "script") {
    parts.push("### Script", fenced(clip(job.script ?? "", 20_000), "sh"));
  } else {
    parts.push("### Instructions", quoted(inertMarkdown(clip(job.prompt ?? "", 20_000))));
  }
  if (input.summary?.trim()) parts.push("### Summary", inertMarkdown(clip(input.summary.trim(), 15_000)));
  if (input.diffStats) {
    const s = input.diffStats;
    parts.push(`**Changes:** ${s.files} file${s.files === 1 ? "" : "s"}, +${s.additions} −${s.deletions}`);
  }
  if (job.verify) {
    const v = input.verify;
    const status = !v ? "not run" : v.ok ? "✅ passed" : `❌ failed${v.reason ? `: ${v.reason}` : ""}`;
    parts.push(`**Verify** \`${job.verify.replace(/`/g, "'").slice(0, 200)}\`: ${status}`);
  }
  const thread = input.slackThreadUrl ?? slackThreadUrl(job.slack);
  if (thread) parts.push(`[Slack thread](${thread})`);
  const template = job.pullRequest?.bodyTemplate;
  const text = template
    ? fillPlaceholders(template, input, parts.join("\n\n"))
    : [`Made by **Cody Batch** for job \`${job.jobId}\` (${inertMarkdown(job.name)}).`, ...parts, "<sub>Review it like any other change; close it to decline. Re-running the job updates this pull request.</sub>"].join("\n\n");
  return clip(`${pullRequestMarker(job.jobId)}\n\n${text}`, BODY_MAX);
}

/**
 * The CODEOWNERS reviewers for a pull request's changed files, read from the base branch; best
 * effort: undefined (logged) when the forge cannot tell, nothing when there is no CODEOWNERS.
 */
async function codeOwnersOf(forge: Forge, repo: RepoRef, number: number, base: string, log: Logger, signal: AbortSignal) {
  if (!forge.listPullRequestFiles || !forge.readFile) return undefined;
  try {
    let text: string | undefined;
    for (const path of CODEOWNERS_PATHS) if ((text = await forge.readFile(repo, path, base, signal)) !== undefined) break;
    if (text === undefined) return undefined;
    const owners = codeOwnerReviewers(parseCodeOwners(text), await forge.listPullRequestFiles(repo, number, signal));
    log.info({ reviewers: owners.reviewers.length, teams: owners.teamReviewers.length }, "code owners found");
    return owners;
  } catch (err) {
    if (signal.aborted) throw err;
    log.warn({ err: errorText(err) }, "reading CODEOWNERS failed; no code owner reviewers");
    return undefined;
  }
}

function slackThreadUrl(slack: Job["slack"]): string | undefined {
  if (!slack?.threadTs) return undefined;
  return `https://app.slack.com/client/${slack.teamId}/${slack.channel}/thread/${slack.channel}-${slack.threadTs}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 20)}\n… (truncated)`;
}

function quoted(text: string): string {
  return text
    .split("\n")
    .map((l) => `> ${l}`)
    .join("\n");
}

/** A code fence longer than any backtick run inside, so the content cannot close it. */
function fenced(text: string, lang: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text}\n${fence}`;
}

async function decorate(
  forge: Forge,
  repo: RepoRef,
  pr: PullRequestRef,
  options: ReturnType<typeof pullRequestOptions>,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const has = (list: string[], v: string) => list.some((x) => x.toLowerCase() === v.toLowerCase());
  const step = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      if (signal.aborted) throw err;
      // Decoration is best effort: the PR exists and is linked either way.
      log.warn({ what, status: statusOf(err) ?? statusOf((err as { cause?: unknown }).cause), err: errorText(err) }, "pull request decoration failed");
    }
  };
  const labels = [CODY_LABEL.name, ...options.labels.filter((l) => l.toLowerCase() !== CODY_LABEL.name)].filter((l) => !has(pr.labels, l));
  if (labels.length > 0) {
    await step("labels", async () => {
      for (const l of labels) {
        await step(`label ${l}`, () => forge.ensureLabel(repo, l === CODY_LABEL.name ? CODY_LABEL : { name: l, color: "ededed" }, signal));
      }
      await forge.addLabels(repo, pr.number, labels, signal);
    });
  }
  const reviewers = options.reviewers.filter((r) => !has(pr.requestedReviewers, r));
  const teamReviewers = options.teamReviewers.filter((t) => !has(pr.requestedTeams, t));
  if (reviewers.length + teamReviewers.length > 0) {
    await step("reviewers", () => forge.requestReviewers(repo, pr.number, { reviewers, teamReviewers }, signal));
  }
  const assignees = options.assignees.filter((a) => !has(pr.assignees, a));
  if (assignees.length > 0) await step("assignees", () => forge.addAssignees(repo, pr.number, assignees, signal));
}

function unique(list: string[]): string[] {
  return list.filter((x, i) => list.findIndex((y) => y.toLowerCase() === x.toLowerCase()) === i);
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 300);
}

type GhPull = {
  number: number;
  html_url: string;
  base: { ref: string };
  labels?: Array<{ name?: string } | string>;
  requested_reviewers?: Array<{ login: string }> | null;
  requested_teams?: Array<{ slug: string }> | null;
  assignees?: Array<{ login: string }> | null;
};

function toRef(p: GhPull): PullRequestRef {
  return {
    number: p.number,
    url: p.html_url,
    base: p.base.ref,
    labels: (p.labels ?? []).map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter(Boolean),
    requestedReviewers: (p.requested_reviewers ?? []).map((u) => u.login),
    requestedTeams: (p.requested_teams ?? []).map((t) => t.slug),
    assignees: (p.assignees ?? []).map((u) => u.login),
  };
}

/** The messages of a 422 "Validation Failed" answer. */
function validationMessages(err: unknown): string[] {
  const data = (err as { response?: { data?: { message?: string; errors?: Array<{ message?: string; code?: string } | string> } } }).response?.data;
  const list = (data?.errors ?? []).map((e) => (typeof e === "string" ? e : (e.message ?? e.code ?? "")));
  return [data?.message ?? "", ...list];
}

function isRateLimited(err: unknown): boolean {
  const status = statusOf(err);
  if (status === 429) return true;
  if (status !== 403) return false;
  const headers = (err as { response?: { headers?: Record<string, string> } }).response?.headers ?? {};
  const message = (err as { message?: string }).message ?? "";
  return /rate limit/i.test(message) || headers["x-ratelimit-remaining"] === "0" || headers["retry-after"] !== undefined;
}

/** Longest quote of GitHub's answer in a reason. */
const GITHUB_QUOTE_MAX = 300;

/**
 * What GitHub said, for a person: `HTTP 422: Validation Failed: base invalid; …`. The message and
 * every `errors[]` entry (its message, else `field code`), token shapes removed, cut.
 */
export function githubSays(err: unknown): string {
  const e = err as { status?: number; message?: string; response?: { data?: unknown } };
  const data = e.response?.data as { message?: unknown; errors?: unknown } | string | undefined;
  const parts: string[] = [];
  if (typeof data === "string") parts.push(data);
  else if (data && typeof data === "object") {
    if (typeof data.message === "string") parts.push(data.message);
    for (const x of Array.isArray(data.errors) ? data.errors : []) {
      const item = x as { message?: string; field?: string; code?: string; resource?: string } | string;
      parts.push(typeof item === "string" ? item : (item.message ?? [item.field, item.code].filter(Boolean).join(" ")));
    }
  }
  const text = parts.filter(Boolean).join(": ").replace(/\s+/g, " ").trim() || (e.message ?? "no message");
  const quoted = redact(`HTTP ${e.status ?? "?"}: ${text}`);
  return quoted.length <= GITHUB_QUOTE_MAX ? quoted : `${quoted.slice(0, GITHUB_QUOTE_MAX - 1)}…`;
}

/** Statuses that are GitHub's answer about this repository or request, not a bug of ours. */
const REFUSALS = new Set([400, 409, 410, 422, 451]);

/** Turns access, rate and refusal answers into {@link ForgeError}; everything else passes through. */
function translate(what: string, err: unknown): unknown {
  if (isRateLimited(err)) {
    return new ForgeError("rate_limited", `GitHub rate limit still in force after retries while trying to ${what}; try again later`, { cause: err });
  }
  const status = statusOf(err);
  if (status === 401 || status === 403 || status === 404) return new ForgeError("no_access", `no access: ${what}`, { cause: err, github: githubSays(err) });
  if (status !== undefined && (REFUSALS.has(status) || status >= 500)) {
    const verb = status >= 500 ? "could not" : "refused to";
    return new ForgeError("refused", `GitHub ${verb} ${what} (${githubSays(err)})`, { cause: err, github: githubSays(err) });
  }
  return err;
}

/**
 * The Forge over an Octokit client from core/github/github.ts (throttled and retried there). Every call
 * passes `signal`; access and rate errors become {@link ForgeError}s.
 */
export function newGitHubForge(octokit: GitHubClient): Forge {
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw translate(what, err);
    }
  };
  return {
    defaultBranch: (repo, signal) =>
      call("read the repository", async () => (await octokit.rest.repos.get({ owner: repo.owner, repo: repo.name, request: { signal } })).data.default_branch),

    findOpenPullRequest: (repo, head, signal) =>
      call("list pull requests", async () => {
        const { data } = await octokit.rest.pulls.list({ owner: repo.owner, repo: repo.name, head: `${repo.owner}:${head}`, state: "open", per_page: 10, request: { signal } });
        const pr = data[0];
        return pr ? toRef(pr as GhPull) : undefined;
      }),

    createPullRequest: (pr, signal) =>
      call("create the pull request", async () => {
        const create = (draft: boolean) =>
          octokit.rest.pulls.create({ owner: pr.repo.owner, repo: pr.repo.name, head: pr.head, base: pr.base, title: pr.title, body: pr.body, draft, request: { signal } });
        try {
          return { kind: "created" as const, pr: toRef((await create(pr.draft)).data as GhPull) };
        } catch (err) {
          if (statusOf(err) !== 422) throw err;
          const messages = validationMessages(err).join("\n");
          if (/A pull request already exists/i.test(messages)) return { kind: "exists" as const };
          if (/No commits between/i.test(messages)) return { kind: "no_changes" as const };
          if (pr.draft && /Draft pull requests are not supported/i.test(messages)) {
            return { kind: "created" as const, pr: toRef((await create(false)).data as GhPull) };
          }
          throw err;
        }
      }),

    updatePullRequest: (repo, number, fields, signal) =>
      call("update the pull request", async () => {
        await octokit.rest.pulls.update({ owner: repo.owner, repo: repo.name, pull_number: number, ...fields, request: { signal } });
      }),

    ensureLabel: async (repo, label, signal) => {
      try {
        await octokit.rest.issues.getLabel({ owner: repo.owner, repo: repo.name, name: label.name, request: { signal } });
        return;
      } catch (err) {
        if (statusOf(err) !== 404) throw translate("read a label", err);
      }
      try {
        await octokit.rest.issues.createLabel({ owner: repo.owner, repo: repo.name, name: label.name, color: label.color, ...(label.description ? { description: label.description } : {}), request: { signal } });
      } catch (err) {
        // Another runner created it in between: fine.
        if (statusOf(err) === 422 && validationMessages(err).some((m) => /already_exists/.test(m))) return;
        throw translate("create a label", err);
      }
    },

    addLabels: (repo, number, labels, signal) =>
      call("label the pull request", async () => {
        await octokit.rest.issues.addLabels({ owner: repo.owner, repo: repo.name, issue_number: number, labels, request: { signal } });
      }),

    requestReviewers: (repo, number, who, signal) =>
      call("request reviewers", async () => {
        await octokit.rest.pulls.requestReviewers({ owner: repo.owner, repo: repo.name, pull_number: number, reviewers: who.reviewers, team_reviewers: who.teamReviewers, request: { signal } });
      }),

    addAssignees: (repo, number, assignees, signal) =>
      call("assign the pull request", async () => {
        await octokit.rest.issues.addAssignees({ owner: repo.owner, repo: repo.name, issue_number: number, assignees, request: { signal } });
      }),

    listPullRequestFiles: (repo, number, signal) =>
      call("list the pull request's files", async () =>
        (await octokit.paginate(octokit.rest.pulls.listFiles, { owner: repo.owner, repo: repo.name, pull_number: number, per_page: 100, request: { signal } })).map((f) => f.filename),
      ),

    readFile: async (repo, path, ref, signal) => {
      try {
        const { data } = await octokit.rest.repos.getContent({ owner: repo.owner, repo: repo.name, path, ref, request: { signal } });
        const file = data as { type?: string; content?: string; encoding?: string };
        return file.type === "file" && file.content !== undefined ? Buffer.from(file.content, (file.encoding as BufferEncoding) ?? "base64").toString("utf8") : undefined;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw translate(`read ${path}`, err);
      }
    },
  } satisfies Forge;
}
