/**
 * A job request (what a person asks for, from Slack, the CLI or a change spec): its limits,
 * validation with field-level errors, defaults, and the job and repository rows built from it.
 * Pure: no I/O.
 */
import * as z from "zod/mini";
import { parseRepoSpec, matchesAllowlist, type AllowPattern } from "../config/index.ts";
import type { Job, JobType, PullRequestOptions, RepoRow, SlackThread } from "./job.ts";

/** Limits on what a job request may hold. */
export const LIMITS = {
  maxRepositories: 1000,
  nameChars: 120,
  promptChars: 20_000,
  scriptChars: 20_000,
  verifyChars: 2_000,
  branchChars: 200,
  prTitleChars: 256,
  bodyTemplateChars: 20_000,
  commitMessageChars: 5_000,
} as const;

/** Days a job and its repository rows are kept (DynamoDB TTL). */
export const RETENTION_DAYS = 30;

/** What a person asks for; validated by {@link validateJobRequest}. */
export type JobRequest = {
  name?: string;
  type: JobType;
  prompt?: string;
  script?: string;
  verify?: string;
  repositories: string[];
  createPullRequests?: boolean;
  pullRequest?: Partial<PullRequestOptions>;
  baseBranch?: string;
  commitMessage?: string;
  createdBy: string;
  slack?: SlackThread;
};

/** A field-level problem with a request; `field` names the input the person typed into. */
export type FieldError = { field: keyof JobRequest | "repositories"; message: string };

export type ValidatedRequest =
  | { kind: "ok"; request: JobRequest & { name: string; repositories: string[] } }
  | { kind: "invalid"; errors: FieldError[] };

const branchPattern = /^(?!\/|.*\/\/|.*\.\.|.*@\{|.*\.lock$|.*\/$)[A-Za-z0-9._\/-]+$/;

const labelList = z.array(z.string().check(z.minLength(1), z.maxLength(50))).check(z.maxLength(20));

/**
 * Validates a job request against the limits and the allowlist (`"any"`: no allowlist, for the
 * operator's own CLI when ALLOWED_REPOSITORIES is unset). Repository specs are
 * normalized to lower-case-insensitive unique `owner/name` (first spelling kept), in order.
 * Returns every problem found, one per field, in plain words; never throws on bad input.
 */
export function validateJobRequest(req: JobRequest, allowlist: readonly AllowPattern[] | "any"): ValidatedRequest {
  const errors: FieldError[] = [];
  const name = (req.name ?? "").trim() || defaultName(req);
  if (name.length > LIMITS.nameChars) {
    errors.push({ field: "name", message: `name is ${name.length} characters; at most ${LIMITS.nameChars}` });
  }
  if (req.type === "script") {
    if (!req.script?.trim()) errors.push({ field: "script", message: "a script job needs a script" });
    else if (req.script.length > LIMITS.scriptChars)
      errors.push({ field: "script", message: `script is ${req.script.length} characters; at most ${LIMITS.scriptChars}` });
  } else if (req.type === "code-pattern-update") {
    if (!req.prompt?.trim()) errors.push({ field: "prompt", message: "a Claude job needs instructions" });
    else if (req.prompt.length > LIMITS.promptChars)
      errors.push({ field: "prompt", message: `instructions are ${req.prompt.length} characters; at most ${LIMITS.promptChars}` });
  } else {
    errors.push({ field: "type", message: `unknown job type ${JSON.stringify(req.type)}` });
  }
  if (req.verify !== undefined && req.verify.length > LIMITS.verifyChars) {
    errors.push({ field: "verify", message: `verify command is ${req.verify.length} characters; at most ${LIMITS.verifyChars}` });
  }
  if (req.baseBranch !== undefined && req.baseBranch !== "") {
    if (req.baseBranch.length > LIMITS.branchChars || !branchPattern.test(req.baseBranch)) {
      errors.push({ field: "baseBranch", message: `${JSON.stringify(req.baseBranch)} is not a valid branch name` });
    }
  }
  const textLimits = [
    ["commitMessage", "commit message", req.commitMessage, LIMITS.commitMessageChars],
    ["pullRequest", "pull request title", req.pullRequest?.title, LIMITS.prTitleChars],
    ["pullRequest", "pull request body template", req.pullRequest?.bodyTemplate, LIMITS.bodyTemplateChars],
  ] as const;
  for (const [field, what, value, max] of textLimits) {
    if (value !== undefined && value.length > max) errors.push({ field, message: `${what} is ${value.length} characters; at most ${max}` });
  }
  if (req.pullRequest) {
    for (const key of ["labels", "reviewers", "teamReviewers", "assignees"] as const) {
      const v = req.pullRequest[key];
      if (v !== undefined && !labelList.safeParse(v).success) {
        errors.push({ field: "pullRequest", message: `${key}: at most 20 entries of 1 to 50 characters` });
      }
    }
  }

  const repositories: string[] = [];
  const repoProblems: string[] = [];
  const seen = new Set<string>();
  for (const raw of req.repositories) {
    const spec = parseRepoSpec(raw);
    if (spec.kind === "invalid") {
      repoProblems.push(spec.reason);
      continue;
    }
    if (allowlist !== "any" && !matchesAllowlist(spec.fullName, allowlist)) {
      const allowed = allowlist.map((p) => p.source).join(", ") || "none configured";
      repoProblems.push(`${spec.fullName} is not in the allowed repositories (${allowed})`);
      continue;
    }
    const key = spec.fullName.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      repositories.push(spec.fullName);
    }
  }
  if (repoProblems.length > 0) {
    const shown = repoProblems.slice(0, 3).join("; ");
    const more = repoProblems.length > 3 ? ` (and ${repoProblems.length - 3} more)` : "";
    errors.push({ field: "repositories", message: shown + more });
  } else if (repositories.length === 0) {
    errors.push({ field: "repositories", message: "name at least one repository (owner/name)" });
  } else if (repositories.length > LIMITS.maxRepositories) {
    errors.push({
      field: "repositories",
      message: `${repositories.length} repositories; a job takes at most ${LIMITS.maxRepositories}`,
    });
  }

  if (errors.length > 0) return { kind: "invalid", errors };
  return { kind: "ok", request: { ...req, name, repositories } };
}

function defaultName(req: JobRequest): string {
  const text = (req.type === "script" ? req.script : req.prompt) ?? "";
  const firstLine = text.trim().split("\n")[0] ?? "";
  const short = firstLine.length > 60 ? `${firstLine.slice(0, 57)}...` : firstLine;
  return short || "Batch change";
}

/** Fills pull-request options with defaults. */
export function pullRequestOptions(p: Partial<PullRequestOptions> | undefined): PullRequestOptions {
  return {
    draft: p?.draft ?? false,
    labels: p?.labels ?? [],
    reviewers: p?.reviewers ?? [],
    teamReviewers: p?.teamReviewers ?? [],
    assignees: p?.assignees ?? [],
    minIntervalSeconds: p?.minIntervalSeconds ?? 0,
    ...(p?.title ? { title: p.title } : {}),
    ...(p?.bodyTemplate ? { bodyTemplate: p.bodyTemplate } : {}),
    ...(p?.reviewersFromCodeOwners ? { reviewersFromCodeOwners: true } : {}),
  };
}

/**
 * Fills `{{name}}`, `{{jobId}}`, `{{repository}}` (and `{{details}}` when given) in a title,
 * body template or commit message; other `{{…}}` stay as written.
 */
export function fillPlaceholders(template: string, input: { job: Pick<Job, "jobId" | "name">; repository: string }, details?: string): string {
  const values: Record<string, string | undefined> = { name: input.job.name, jobId: input.job.jobId, repository: input.repository, details };
  return template.replace(/\{\{\s*(name|jobId|repository|details)\s*\}\}/g, (m, k: string) => values[k] ?? m);
}

/** A new job id: `j-` plus 10 lower-case base-36 characters, sortable by nothing. */
export function newJobId(random: () => number = Math.random): string {
  let s = "";
  for (let i = 0; i < 10; i++) s += Math.floor(random() * 36).toString(36);
  return `j-${s}`;
}

/** The branch a job pushes in every repository. */
export function branchFor(jobId: string): string {
  return `cody/${jobId}`;
}

/** S3 key of a repository's diff. */
export function diffKeyFor(jobId: string, repo: string): string {
  return `diffs/${jobId}/${repo}.diff`;
}

/** S3 key of a repository's Claude transcript. */
export function transcriptKeyFor(jobId: string, repo: string): string {
  return `threads/${jobId}/${repo}.json`;
}

/** Builds the job row and repository rows for a validated request; pure. */
export function newJobRows(
  jobId: string,
  req: JobRequest & { name: string },
  now: Date,
): { job: Job; repos: RepoRow[] } {
  const createdAt = now.toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + RETENTION_DAYS * 24 * 3600;
  const job: Job = {
    jobId,
    name: req.name,
    type: req.type,
    ...(req.prompt !== undefined && req.type === "code-pattern-update" ? { prompt: req.prompt } : {}),
    ...(req.script !== undefined && req.type === "script" ? { script: req.script } : {}),
    ...(req.verify ? { verify: req.verify } : {}),
    repositories: req.repositories,
    createPullRequests: req.createPullRequests ?? false,
    ...(req.createPullRequests ? { pullRequest: pullRequestOptions(req.pullRequest) } : {}),
    ...(req.baseBranch ? { baseBranch: req.baseBranch } : {}),
    ...(req.commitMessage ? { commitMessage: req.commitMessage } : {}),
    createdBy: req.createdBy,
    ...(req.slack ? { slack: req.slack } : {}),
    counters: { total: req.repositories.length, completed: 0, noChanges: 0, failed: 0, cancelled: 0 },
    totals: { prsOpened: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costMicroUsd: 0 },
    status: "PENDING",
    createdAt,
    updatedAt: createdAt,
    expiresAt,
  };
  const repos = req.repositories.map(
    (repositoryName, index): RepoRow => ({
      jobId,
      repositoryName,
      index,
      status: "PENDING",
      attempt: 0,
      expiresAt,
    }),
  );
  return { job, repos };
}

// ── Campaign: pull-request tracking and bulk actions after the job (issue 12) ──────────────
