/**
 * One repository of a job, top to bottom: claim → clone → change (script or Claude) → verify →
 * commit + diff → publish (S3, push, pull request) → report. Reads like multi-gitter's
 * runSingleRepo: every expected outcome is a value; only infrastructure faults throw.
 * Over 400 lines on purpose: an orchestrator that reads better whole, one step after the other.
 */
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  diffKeyFor,
  jobBranch,
  isJudged,
  isTerminalRepo,
  transcriptKeyFor,
  type DiffStats,
  type Job,
  type RepoRow,
  type RepoStatus,
  type Usage,
} from "../core/jobs/index.ts";
import type { Artifacts } from "../core/jobs/index.ts";
import { fillPlaceholders } from "../core/jobs/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import { redact } from "../core/runtime/index.ts";
import type { Notifier } from "../core/jobs/index.ts";
import type { RepoFields, Store } from "../core/jobs/index.ts";
import { matchesAllowlist, parseRepoSpec, type AllowPattern } from "../core/config/index.ts";
import { commitMessage, inertText, secretReason } from "./change-text.ts";
import { pullRequestBody } from "./pull-request.ts";
import { commandEnv, lastLines, runCommand } from "./command.ts";
import { runVerify } from "./verify.ts";
import type { Sandbox, SandboxSession } from "./sandbox.ts";
import { changedFileTooBig, checkoutTooBig, truncate, DEFAULT_MAX_CHANGED_FILES, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_REPO_BYTES, freshWorkDir } from "./repo-caps.ts";
import { newWorkspace, type GitTokenSource, type Workspace } from "./workspace.ts";
import { replayStoredDiff } from "./replay-diff.ts";
import { readBranch, settleBranch } from "./branch-head.ts";
import { newStepTimings, type StepTimings } from "./step-timings.ts";
import { newSpendMeter, type SpendMeter } from "./agent/budget.ts";
import { budgetReason, isBudgetSpent } from "../core/jobs/index.ts";
import type { ScopeJudge } from "./agent/judge.ts";
import { judgeRound, newJudgeTally, vetoMessage, withJudgeUsage, type JudgeTally } from "./judge-step.ts";
import { healInstructions, healKey, healNumber, isHealing, settleHeal } from "./heal.ts";

/** What a Claude change ended with (see runner/agent). `transcript` is redacted JSON. */
export type AgentOutcome =
  | { kind: "done"; summary: string; usage: Usage; costUsd: number; transcript: string; /** Continues the conversation (the judge's veto). */ followUp?: (message: string, signal: AbortSignal) => Promise<AgentOutcome> }
  | { kind: "failed"; reason: string; usage: Usage; costUsd: number; transcript: string }
  | { kind: "aborted"; usage: Usage; costUsd: number; transcript: string };

/** Drives Claude over a checkout. Absent when no model is configured. */
export type ChangeAgent = (
  input: { root: string; /** The runner's own git directory (for git the agent runs itself). */ gitDir?: string; repository: string; instructions: string; verifyCommand?: string; verify?: (signal: AbortSignal) => Promise<VerifyOutcome>; /** The job's spend (issue 19). */ meter?: SpendMeter },
  signal: AbortSignal,
) => Promise<AgentOutcome>;

export type VerifyOutcome = { ok: boolean; output: string; reason?: string };

/** Opens or updates the pull request of a pushed branch. Absent when no GitHub API is configured. */
export type PullRequestOpener = (
  input: {
    job: Job;
    repository: string;
    head: string;
    base: string;
    summary?: string;
    diffStats: DiffStats;
    verify?: VerifyOutcome;
    /** The scope judge's approval, for the PR body's "Scope check" heading. */
    scopeCheck?: string;
  },
  signal: AbortSignal,
) => Promise<{ kind: "opened" | "updated"; url: string; number: number } | { kind: "no_changes" } | { kind: "failed"; reason: string }>;

/** What the runner may do on the forge for one repository. */
export type RepoForge = { gitToken?: GitTokenSource; pullRequests?: PullRequestOpener };

export type RunRepoDeps = {
  store: Store;
  artifacts: Artifacts;
  notifier: Notifier;
  log: Logger;
  settings: {
    gitBaseUrl: string;
    scriptTimeoutSeconds: number;
    maxAttempts: number;
    heartbeatSeconds: number;
    /** Parent of per-repository temporary directories. */
    workDir?: string;
    /** Known secret values, removed from every artifact. */
    secrets: readonly string[];
    /** ALLOWED_REPOSITORIES, checked again before cloning; empty or absent: any repository (the operator's own CLI). */
    allowlist?: readonly AllowPattern[];
    /** Caps (issue: bounded work): changed files per repository, clone depth, checkout size, changed file size. */
    maxChangedFiles?: number;
    cloneDepth?: number;
    maxRepoBytes?: number;
    maxFileBytes?: number;
  };
  /**
   * Test-only fault injection: called when the attempt reaches a crash point (the end of clone,
   * change, verify, commit, push, pull_request; report right after the terminal write). Wired
   * by runner/main.ts from CODY_TEST_CRASH_AT only when NODE_ENV=test (see crash-points.ts).
   */
  crashPoint?: (step: string, row: RepoRow) => void;
  /** GitHub access for one repository (a token for git, pull requests); absent without GitHub settings. */
  forgeFor?: (repository: string) => RepoForge;
  agent?: ChangeAgent;
  /** The scope judge (issue 19); absent when Claude is not configured. */
  judge?: ScopeJudge;
  /** Environment the person's commands may see a safe part of (PATH, LANG …). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Runs the script, the verify command and `run_checks` as unprivileged uids; absent: as the runner's own user. */
  sandbox?: Sandbox;
  now?: () => Date;
};

/** How a repository ended, as a value. */
export type RepoOutcome =
  | { kind: "completed"; fields: RepoFields }
  | { kind: "no_changes"; fields?: RepoFields }
  | { kind: "cancelled"; reason: string }
  | { kind: "failed"; reason: string; fields?: RepoFields };

/**
 * Runs repository `index` of job `jobId` as one runner attempt. Returns the process exit code:
 * 0 when the repository is in a terminal status (whatever it is), 1 when the runner could not do
 * its bookkeeping (store unreachable, job missing) and the attempt should be retried.
 */
export async function runRepo(
  deps: RunRepoDeps,
  input: { jobId: string; index: number; /** The launcher's attempt number (AWS_BATCH_JOB_ATTEMPT), when known. */ attempt?: number },
  signal: AbortSignal,
): Promise<number> {
  const now = deps.now ?? (() => new Date());
  const timings = newStepTimings();
  const log0 = deps.log.child({ jobId: input.jobId, index: input.index });
  const job = await deps.store.getJob(input.jobId, signal);
  if (!job) {
    log0.error("job not found");
    return 1;
  }
  const repository = job.repositories[input.index];
  if (!repository) {
    log0.error({ repositories: job.repositories.length }, "array index outside the job's repositories");
    return 1;
  }
  const log = log0.child({ repo: repository });

  if (job.status === "CANCELLED") {
    // Not PUSHING: a row another attempt was publishing is taken over by the claim below and its
    // publishing finished (push and PR are idempotent), not reported as cancelled without its PR.
    await endRepo(deps, job, { jobId: job.jobId, repositoryName: repository, index: input.index }, ["PENDING", "CLONING", "RUNNING"], {
      kind: "cancelled",
      reason: `cancelled by ${job.cancelledBy ?? "someone"}`,
    }, log);
    return 0;
  }

  const staleBefore = new Date(now().getTime() - deps.settings.heartbeatSeconds * 3 * 1000);
  const claim = await deps.store.claimRepo(
    job.jobId,
    repository,
    { now: now(), staleBefore, ...(input.attempt !== undefined ? { launcherAttempt: input.attempt } : {}) },
    signal,
  );
  if (claim.kind === "missing") {
    log.error("repository row not found");
    return 1;
  }
  if (claim.kind === "terminal") {
    // A previous attempt may have died between ending the row and counting it, or between
    // counting it and finalizing the job: count it (once) and finalize the job if it is done.
    log.info({ status: claim.row.status }, "repository already finished; nothing to do");
    await deps.store.countRepo(claim.row, signal);
    if (!job.finishedAt) {
      const finalized = await deps.store.finalizeIfDone(job.jobId, now(), signal);
      if (finalized) await deps.notifier.jobFinished(finalized).catch((err: unknown) => log.warn({ err }, "reporting the job's end failed"));
    }
    return 0;
  }
  if (claim.kind === "busy") {
    log.warn({ attempt: claim.row.attempt }, "another attempt is alive; leaving it alone");
    return 0;
  }
  const row = claim.row;
  if (row.attempt > deps.settings.maxAttempts) {
    const reason = `runner crashed ${row.attempt - 1} times at step ${row.lastStep ?? "start"}`;
    await endRepo(deps, job, row, ["CLONING"], { kind: "failed", reason }, log);
    return 0;
  }
  if (job.status === "PENDING") await deps.store.markJobRunning(job.jobId, signal);

  // The attempt's own signal: aborted by the caller (SIGTERM, cancel) or when the heartbeat
  // finds that this attempt no longer owns the row.
  // `ownership` is aborted only when the row is lost: it alone governs publishing once the row is
  // PUSHING (the point of no return), so a cancel or SIGTERM cannot leave a pushed branch on a
  // repository that then ends CANCELLED.
  const attempt = new AbortController();
  const ownership = new AbortController();
  const onAbort = () => attempt.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  const heartbeat = setInterval(() => {
    deps.store.heartbeat(row, now(), ownership.signal).then(
      (owned) => {
        if (owned) return;
        const lost = new Error("lost ownership of the repository row");
        ownership.abort(lost);
        attempt.abort(lost);
      },
      (err: unknown) => log.warn({ err }, "heartbeat failed"),
    );
  }, deps.settings.heartbeatSeconds * 1000);
  heartbeat.unref();

  const dir = await freshWorkDir(deps.settings.workDir ?? tmpdir(), job.jobId, input.index, row.attempt);
  // start: reading the job, claiming the row, the attempt's fresh directory.
  timings.add("start", timings.elapsed());
  const state = { status: "CLONING" as RepoStatus, step: "clone" };
  // One sandbox session (one uid, one change of owner) for every command of this repository,
  // opened by its first command and closed before its directory is removed.
  let session: Promise<SandboxSession> | undefined;
  const sandboxSession = deps.sandbox ? () => (session ??= deps.sandbox!.open({ paths: [join(dir, "repo"), join(dir, "home")], gate: dir }, attempt.signal)) : undefined;
  let outcome: RepoOutcome;
  try {
    outcome = await changeRepo(deps, { job, row, dir, state, log, publishSignal: ownership.signal, timings, ...(sandboxSession ? { sandboxSession } : {}) }, attempt.signal);
  } catch (err) {
    if (attempt.signal.aborted) {
      const fresh = await deps.store.getJob(job.jobId);
      outcome =
        fresh?.status === "CANCELLED"
          ? { kind: "cancelled", reason: `cancelled by ${fresh.cancelledBy ?? "someone"}` }
          : { kind: "failed", reason: `runner stopped at step ${state.step} (${describeAbort(attempt.signal.reason)})` };
    } else {
      log.error({ err, step: state.step }, "runner step failed unexpectedly");
      outcome = { kind: "failed", reason: `internal error at step ${state.step} (job ${job.jobId})` };
    }
  } finally {
    clearInterval(heartbeat);
    signal.removeEventListener("abort", onAbort);
    await timings.time("cleanup", async () => {
      if (session) await (await session.catch(() => undefined))?.close().catch((err: unknown) => log.warn({ err }, "closing the sandbox session failed"));
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    });
  }
  if (isHealing(row)) outcome = settleHeal(outcome, row, now());
  await endRepo(deps, job, row, [state.status], outcome, log, deps.crashPoint ? () => deps.crashPoint!("report", row) : undefined, timings);
  return 0;
}

function describeAbort(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === "string" ? reason : "aborted";
}

type Ctx = {
  job: Job;
  row: RepoRow;
  dir: string;
  state: { status: RepoStatus; step: string };
  log: Logger;
  publishSignal: AbortSignal;
  timings: StepTimings;
  /** The repository's sandbox session (opened on first use), when commands are sandboxed. */
  sandboxSession?: () => Promise<SandboxSession>;
};

async function changeRepo(deps: RunRepoDeps, ctx: Ctx, signal: AbortSignal): Promise<RepoOutcome> {
  const { job, row, state, log, timings } = ctx;
  const repository = row.repositoryName;
  // A job row is data anyone with write access to the table could have made: check it again.
  const allowlist = deps.settings.allowlist ?? [];
  if (parseRepoSpec(repository).kind !== "ok") return { kind: "failed", reason: `${repository.slice(0, 120)} is not a repository name; the runner refused it` };
  if (allowlist.length > 0 && !matchesAllowlist(repository, allowlist)) return { kind: "failed", reason: `${repository} is not in ALLOWED_REPOSITORIES; the runner refused it` };
  // The job's cap is reached already (issue 19): end without cloning.
  if (isBudgetSpent(job.spendMicroUsd, job.budgetUsd) && !row.replayDiff) return { kind: "failed", reason: budgetReason(job.budgetUsd!) };
  // home: the HOME of scripts and checks; runner/: the runner's own git directory and git HOME, never theirs.
  const home = join(ctx.dir, "home");
  const checkout = join(ctx.dir, "repo");
  const runnerDir = join(ctx.dir, "runner");
  await mkdir(home, { recursive: true });
  await mkdir(runnerDir, { recursive: true, mode: 0o700 });
  const forge = deps.forgeFor?.(repository) ?? {};
  const ws: Workspace = newWorkspace({ dir: checkout, gitDir: join(runnerDir, "git"), home: join(runnerDir, "home"), ...(forge.gitToken ? { token: forge.gitToken } : {}) });
  const url = `${deps.settings.gitBaseUrl}/${repository}.git`;

  // Healing (runner/heal.ts) works on the PR's branch: one new commit on top of it.
  const healing = isHealing(row);
  const cloneBranch = healing ? jobBranch(job) : job.baseBranch;
  const cloned = await timings.time("clone", () => ws.clone({ url, repository, ...(cloneBranch ? { baseBranch: cloneBranch } : {}), depth: deps.settings.cloneDepth ?? 1 }, signal));
  if (cloned.kind === "failed") return { kind: "failed", reason: cloned.reason };
  const tooBig = await timings.time("clone", () => checkoutTooBig(checkout, deps.settings.maxRepoBytes ?? DEFAULT_MAX_REPO_BYTES));
  if (tooBig) return { kind: "failed", reason: tooBig };
  const branch = jobBranch(job);
  // Healing clones the PR's branch itself: the base branch to guard against is the PR's base.
  const guardedBase = healing ? (row.pr?.baseRef ?? job.baseBranch) : cloned.baseBranch;
  if (branch === guardedBase) return { kind: "failed", reason: `the branch ${truncate(branch, 100)} is the base branch of ${repository}; choose another --branch` };
  // No local branch is needed: the commit is pushed as HEAD:refs/heads/<branch>.
  deps.crashPoint?.("clone", row);

  // A previous attempt committed and was publishing when it died: when the remote branch holds
  // its commit, publish that commit instead of making the change again (for Claude that would be
  // a second, possibly different, change and its tokens paid twice).
  if (job.createPullRequests && row.commitSha && row.diffStats && (row.lastStep === "push" || row.lastStep === "pull_request")) {
    if ((await ws.remoteBranchSha(url, branch, signal)) === row.commitSha) {
      const refused = await moveUnlessCancelled(deps, row, "CLONING", "RUNNING", { step: "push" }, "while cloning", signal);
      if (refused) return refused;
      state.status = "RUNNING";
      log.info({ commitSha: row.commitSha }, "a previous attempt pushed this commit; publishing it without redoing the change");
      const fields: RepoFields = {
        branch,
        commitSha: row.commitSha,
        diffStats: row.diffStats,
        ...(row.diffKey ? { diffKey: row.diffKey } : {}),
        ...(row.summary ? { summary: row.summary } : {}),
        ...(row.transcriptKey ? { transcriptKey: row.transcriptKey } : {}),
        ...(row.usage ? { usage: row.usage } : {}),
        ...(row.costUsd !== undefined ? { costUsd: row.costUsd } : {}),
        ...(row.scopeCheck ? { scopeCheck: row.scopeCheck } : {}),
      };
      const verified = job.verify ? { ok: true, output: "" } : undefined;
      return publish(deps, ctx, { ws, forge, url, branch, base: cloned.baseBranch, fields, stats: row.diffStats, ...(row.summary ? { summary: row.summary } : {}), ...(verified ? { verified } : {}), alreadyPushed: true }, signal);
    }
  }

  const refused = await moveUnlessCancelled(deps, row, "CLONING", "RUNNING", { step: "change" }, "while cloning", signal);
  if (refused) return refused;
  state.status = "RUNNING";
  state.step = "change";
  const extraEnv = { CODY_JOB_ID: job.jobId, CODY_REPOSITORY: repository };
  // With a sandbox the checkout and `home` belong to the session's uid from its first command on,
  // and only that uid may pass the repository's directory meanwhile (see freshWorkDir).
  const sandbox = async () => (ctx.sandboxSession ? { session: await ctx.sandboxSession() } : {});
  const cmdEnv = commandEnv(deps.baseEnv ?? process.env, home, extraEnv);
  const verify = job.verify
    ? async (s: AbortSignal): Promise<VerifyOutcome> => {
        const v = await timings.time("verify", async () => runVerify(job.verify!, checkout, { timeoutSeconds: deps.settings.scriptTimeoutSeconds, env: deps.baseEnv ?? process.env, home, extraEnv, ...(await sandbox()) }, s));
        return v.reason ? { ...v, reason: redact(v.reason, deps.settings.secrets) } : v;
      }
    : undefined;

  let summary: string | undefined;
  let agentFields: RepoFields = {};
  let verified: VerifyOutcome | undefined;
  // Change quality (issue 19): every model request of this repository checks and raises the job's spend.
  const meter = newSpendMeter(deps.store, job);
  const judge: JudgeTally | undefined = (isJudged(job) || healing) && !row.replayDiff ? newJudgeTally() : undefined;
  const instructions = healing ? healInstructions(job, row.healContext!) : job.type === "script" ? undefined : (job.prompt ?? "");
  const artifactKey = (key: string) => (healing ? healKey(key, healNumber(row)) : key);
  let followUp: ((message: string, signal: AbortSignal) => Promise<AgentOutcome>) | undefined;
  const takeAgent = async (r: AgentOutcome): Promise<RepoOutcome | undefined> => {
    if (judge) Object.assign(judge, { agentUsage: r.usage, agentCostUsd: r.costUsd });
    agentFields = withJudgeUsage({ ...agentFields, usage: r.usage, costUsd: r.costUsd }, judge);
    if (r.transcript) {
      const key = artifactKey(transcriptKeyFor(job.jobId, repository));
      await deps.artifacts.put(key, redact(r.transcript, deps.settings.secrets), "application/json", signal);
      agentFields.transcriptKey = key;
    }
    if (r.kind === "aborted") throw signal.reason ?? new Error("aborted");
    if (r.kind === "failed") return { kind: "failed", reason: r.reason, fields: agentFields };
    summary = r.summary;
    agentFields.summary = redact(truncate(r.summary, 4000), deps.settings.secrets);
    followUp = r.followUp;
    return undefined;
  };
  let atCommit: Promise<{ owned: boolean; cancelRequested: boolean }> | undefined;
  for (let round = 1; ; round++) {
    if (round > 1) {
      // The judge vetoed the first change: Claude gets the reason once and may correct it.
      state.step = "change";
      const again = followUp!;
      const failed = await takeAgent(await timings.time("change", () => again(vetoMessage(agentFields.scopeCheck?.reason ?? ""), signal)));
      if (failed) return failed;
    } else if (row.replayDiff) {
      // cody publish (runner/replay-diff.ts): the preview's stored diff, not the change again.
      const replayed = await timings.time("change", () => replayStoredDiff(deps, { row, checkout, home, base: cloned.baseBranch, env: cmdEnv }, signal));
      if (replayed.kind === "failed") return { kind: "failed", reason: replayed.reason };
      summary = row.summary;
      agentFields = { replayDiff: false };
    } else if (job.type === "script" && !healing) {
      const r = await timings.time("change", async () => runCommand(job.script ?? "", { cwd: checkout, env: cmdEnv, timeoutSeconds: deps.settings.scriptTimeoutSeconds, ...(await sandbox()) }, signal));
      if (r.kind === "aborted") throw signal.reason ?? new Error("aborted");
      if (r.kind === "timed_out") return { kind: "failed", reason: `script timed out after ${r.seconds} s` };
      if (r.code !== 0) {
        const tail = lastLines(redact(r.output, deps.settings.secrets), 1);
        return { kind: "failed", reason: `script exited with code ${r.code}${tail ? `: ${truncate(tail, 200)}` : ""}` };
      }
    } else {
      if (!deps.agent) return { kind: "failed", reason: "Claude is not configured (set ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL)" };
      const agent = deps.agent;
      const r = await timings.time("change", () =>
        agent({ root: checkout, gitDir: ws.gitDir, repository, instructions: instructions ?? "", ...(job.verify ? { verifyCommand: job.verify } : {}), ...(verify ? { verify } : {}), meter }, signal),
      );
      const failed = await takeAgent(r);
      if (failed) return failed;
    }

    if (round === 1) deps.crashPoint?.("change", row);

    if (verify && !row.replayDiff) {
      state.step = "verify";
      if (!(await step(deps, row, "verify", signal)).owned) throw new Error("lost the repository row before verifying");
      verified = await verify(signal);
      if (!verified.ok) return { kind: "failed", reason: verified.reason ?? "verify failed", fields: agentFields };
      if (round === 1) deps.crashPoint?.("verify", row);
    }

    state.step = "commit";
    // Unjudged: one request records the step and checks for a cancel while git stages (awaited before the commit).
    if (!judge) {
      atCommit = step(deps, row, "commit", signal);
      atCommit.catch(() => undefined);
    }
    const stagedAll = await timings.time("commit", () => ws.stageAll(signal));
    if (stagedAll.kind === "refused") return { kind: "failed", reason: stagedAll.reason, fields: agentFields };
    const staged = stagedAll.files;
    if (staged === 0) return { kind: "no_changes", fields: agentFields };
    const maxFiles = deps.settings.maxChangedFiles ?? DEFAULT_MAX_CHANGED_FILES;
    if (staged > maxFiles) return { kind: "failed", reason: `the change touches ${staged} files; at most ${maxFiles} (MAX_CHANGED_FILES)`, fields: agentFields };
    const bigFile = await timings.time("commit", () => changedFileTooBig(ws, checkout, deps.settings.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, signal));
    if (bigFile) return { kind: "failed", reason: bigFile, fields: agentFields };
    if (!judge) break;

    // Nothing unjudged is pushed: approve → on; veto → one correction (Claude), else FAILED.
    state.step = "judge";
    const tally = judge;
    const judged = await timings.time("change", () => judgeRound(deps, { job, ws, tally, meter, ...(instructions !== undefined ? { instructions } : {}), ...(verified ? { verified } : {}) }, signal));
    agentFields = withJudgeUsage(agentFields, judge, judged.scopeCheck);
    if (judged.kind === "approve") break;
    if (judged.kind === "failed") return { kind: "failed", reason: judged.reason, fields: agentFields };
    if (round > 1 || !followUp) return { kind: "failed", reason: `judge vetoed: ${judged.reason}`, fields: agentFields };
  }
  state.step = "commit";
  const at = await timings.time("commit", () => atCommit ?? step(deps, row, "commit", signal));
  if (at.cancelRequested) return CANCELLED;
  if (!at.owned) throw new Error("lost the repository row before committing");
  // A spec's own commit message replaces the generated one (made inert the same way).
  const message = job.commitMessage ? `${inertText(fillPlaceholders(job.commitMessage, { job, repository }).trim())}\n\nCody Batch job ${job.jobId}` : commitMessage(job, summary);
  const inMessage = secretReason(
    [
      { where: "the job's name (the commit and pull request title)", text: job.name },
      { where: "Claude's summary (the commit message)", text: summary ?? "" },
      { where: "the commit message (the job's script)", text: message },
    ],
    deps.settings.secrets,
  );
  if (inMessage) return { kind: "failed", reason: inMessage, fields: agentFields };
  const commitSha = await timings.time("commit", () => ws.commit(message, job.createdAt, signal));
  deps.crashPoint?.("commit", row);
  // One diff: the stored patch, its stats, and what the change adds for the secret check.
  const { patch, stats, added } = await timings.time("diff", () => ws.diff(cloned.baseSha, commitSha, signal));
  const diffKey = artifactKey(diffKeyFor(job.jobId, repository));
  await timings.time("diff", () => deps.artifacts.put(diffKey, redact(patch, deps.settings.secrets), "text/x-diff; charset=utf-8", signal));
  // The stored diff is redacted; the commit is not: a change that would differ is never published.
  const inChange = secretReason([{ where: "the change", text: added }], deps.settings.secrets);
  if (inChange) return { kind: "failed", reason: inChange, fields: { ...agentFields, diffKey, diffStats: stats } };
  const fields: RepoFields = { ...agentFields, branch, commitSha, diffKey, diffStats: stats };

  if (!job.createPullRequests) return { kind: "completed", fields };

  return publish(deps, ctx, { ws, forge, url, branch, base: cloned.baseBranch, fields, stats, ...(summary ? { summary } : {}), ...(verified ? { verified } : {}), alreadyPushed: false }, signal);
}

type PublishInput = {
  ws: Workspace;
  forge: RepoForge;
  url: string;
  branch: string;
  base: string;
  fields: RepoFields;
  stats: DiffStats;
  summary?: string;
  verified?: VerifyOutcome;
  /** The branch already holds this commit on the remote (a previous attempt pushed it). */
  alreadyPushed: boolean;
};

/** RUNNING → PUSHING, push (unless already pushed), open or update the pull request. */
async function publish(deps: RunRepoDeps, ctx: Ctx, p: PublishInput, signal: AbortSignal): Promise<RepoOutcome> {
  const { job, row, state, log } = ctx;
  const { ws, forge, url, branch, fields, stats, summary, verified } = p;
  const repository = row.repositoryName;
  state.step = "push";
  if (forge.pullRequests) {
    const scope = fields.scopeCheck?.decision === "approve" ? { scopeCheck: fields.scopeCheck.reason } : {};
    const body = pullRequestBody({ job, repository, head: branch, base: p.base, ...(summary ? { summary } : {}), diffStats: stats, ...(verified ? { verify: verified } : {}), ...scope });
    const inBody = secretReason([{ where: "the pull request description (the job's instructions or Claude's summary)", text: body }], deps.settings.secrets);
    if (inBody) return { kind: "failed", reason: inBody, fields };
  }
  const pushed = await ctx.timings.time("push", async (): Promise<RepoOutcome | { kind: "ok" } | { kind: "failed"; reason: string }> => {
    const refused = await moveUnlessCancelled(deps, row, "RUNNING", "PUSHING", { step: "push", ...fields }, "before pushing", signal);
    if (refused) return refused;
    state.status = "PUSHING";
    // The cancel marks the job before it flags live rows: a job already CANCELLED here means the
    // cancel came first, so nothing is pushed.
    if ((await deps.store.getJob(job.jobId, signal))?.status === "CANCELLED") return { kind: "cancelled", reason: "job cancelled before the push" };
    if (p.alreadyPushed) return { kind: "ok" };
    // Healing adds a commit on top of the PR's branch (others' commits included): never a force-push.
    if (isHealing(row)) return ws.push(url, branch, ctx.publishSignal, { force: false });
    // Others' commits on the branch are kept (rebased onto this commit), skipped or replaced: never lost.
    const onBranch = await readBranch(ws, { url, branch, base: p.base, own: [row.pushedSha, row.commitSha, fields.commitSha] }, ctx.publishSignal);
    const decision = await settleBranch(ws, onBranch, job.onConflict, url, ctx.publishSignal);
    if (decision.kind === "skip") return { kind: "no_changes", fields: { ...fields, error: decision.reason } };
    if (decision.kind === "refuse") return { kind: "failed", reason: decision.reason, fields };
    fields.editedByOthers = decision.kept;
    if (decision.kept > 0) log.info({ kept: decision.kept }, "commits by others kept on the branch");
    return ws.push(url, branch, ctx.publishSignal, decision.lease ? { lease: decision.lease } : {});
  });
  signal = ctx.publishSignal;
  if (pushed.kind === "cancelled" || pushed.kind === "no_changes") return pushed;
  if (pushed.kind === "failed") {
    const reason = pushed.reason === "token has no push access" ? `token has no push access to ${repository}` : pushed.reason;
    return { kind: "failed", reason, fields };
  }
  if (fields.commitSha) fields.pushedSha = fields.commitSha;
  deps.crashPoint?.("push", row);
  if (!forge.pullRequests || isHealing(row)) {
    log.info(isHealing(row) ? "healing commit pushed; the pull request follows its branch" : "branch pushed; no GitHub API configured, so no pull request");
    return { kind: "completed", fields };
  }
  state.step = "pull_request";
  // A cancel no longer stops the repository here: its branch is pushed already.
  if (!(await step(deps, row, "pull_request", signal)).owned) throw new Error("lost the repository row before opening the pull request");
  const openPr = forge.pullRequests;
  const pr = await ctx.timings.time("pr", () =>
    openPr({ job, repository, head: branch, base: p.base, ...(summary ? { summary } : {}), diffStats: stats, ...(verified ? { verify: verified } : {}), ...(fields.scopeCheck?.decision === "approve" ? { scopeCheck: fields.scopeCheck.reason } : {}) }, signal),
  );
  if (pr.kind === "no_changes") {
    // GitHub sees no commits over the base: the branch pushed for nothing is removed again.
    await deleteOwnBranch(ws, url, branch, fields.pushedSha, signal).catch((err: unknown) => log.warn({ err: String(err).slice(0, 300) }, "deleting the branch without commits failed"));
    return { kind: "no_changes", fields };
  }
  if (pr.kind === "failed") return { kind: "failed", reason: pr.reason, fields };
  deps.crashPoint?.("pull_request", row);
  return { kind: "completed", fields: { ...fields, prUrl: pr.url, prNumber: pr.number } };
}

/** Deletes `branch` on the remote while it still points at `sha` (Cody's own push); nothing else. */
async function deleteOwnBranch(ws: Workspace, url: string, branch: string, sha: string | undefined, signal: AbortSignal): Promise<void> {
  if (!sha) return;
  await ws.run(["push", "--no-verify", `--force-with-lease=refs/heads/${branch}:${sha}`, url, `:refs/heads/${branch}`], signal, url);
}

function step(deps: RunRepoDeps, row: RepoRow, name: string, signal: AbortSignal) {
  return deps.store.recordStep(row, name, (deps.now ?? (() => new Date()))(), signal);
}

const CANCELLED: RepoOutcome = { kind: "cancelled", reason: "job cancelled" };

/**
 * Moves this attempt's row `from` → `to` unless a cancel was requested on it (cancelJob flags live
 * rows). Returns the cancelled outcome when the cancel refused the move, undefined when it moved;
 * throws when this attempt no longer owns the row.
 */
async function moveUnlessCancelled(
  deps: RunRepoDeps,
  row: RepoRow,
  from: RepoStatus,
  to: RepoStatus,
  fields: RepoFields,
  when: string,
  signal: AbortSignal,
): Promise<RepoOutcome | undefined> {
  if (await deps.store.moveRepo(row, from, to, fields, signal, { unlessCancelled: true })) return undefined;
  if ((await deps.store.getRepo(row.jobId, row.repositoryName, signal))?.cancelRequested) return CANCELLED;
  throw new Error(`lost the repository row ${when}`);
}

/**
 * Writes the terminal status (with its counter), then reports: the repository's reply, the
 * job's progress, and — for the one caller that finalizes the job — the job's end.
 */
async function endRepo(
  deps: RunRepoDeps,
  job: Job,
  row: Pick<RepoRow, "jobId" | "repositoryName" | "index"> & { attempt?: number },
  from: readonly RepoStatus[],
  outcome: RepoOutcome,
  log: Logger,
  crashPoint?: () => void,
  timings?: StepTimings,
): Promise<void> {
  // Every reason goes through redaction here, whoever built it (script tail, verify, Claude,
  // git, GitHub): it reaches the row, `cody status` and Slack.
  const [status, fields] = terminalOf(outcome);
  if (fields.error !== undefined) fields.error = redact(fields.error, deps.settings.secrets);
  // Where this attempt's time went, on the row (`cody status --timings`) and in the log line below.
  const spent = timings?.snapshot();
  const ended = await deps.store.finishRepoWithJob(row, from, status, { ...fields, step: "report", ...(spent ? { timings: spent } : {}) });
  if (ended.ended) crashPoint?.();
  if (!ended.ended) {
    const current = await deps.store.getRepo(row.jobId, row.repositoryName);
    if (current && isTerminalRepo(current.status)) {
      log.info({ status: current.status }, "repository was ended by someone else");
      return;
    }
    throw new Error(`could not record ${status} for ${row.repositoryName}`);
  }
  // The dashboard's Claude widgets sum `costUsd` and `usage` of this line (terraform/observability.ts).
  log.info(
    { status, reason: "reason" in outcome ? outcome.reason : undefined, costUsd: fields.costUsd, usage: fields.usage, ...(spent ? { timingsMs: { ...spent, report: Math.round(timings!.elapsed() - (spent.total ?? 0)) } } : {}) },
    "repository finished",
  );
  // The row and the job as the writes returned them: no re-reads (DynamoDB requests per repository).
  const { repo, job: counted } = ended;
  const links = await linksFor(deps, repo);
  await deps.notifier.repoFinished({ job: counted ?? job, repo, ...links }).catch((err: unknown) => log.warn({ err }, "reporting the repository failed"));
  const finalized = await deps.store.finalizeIfDone(job.jobId, new Date(), undefined, counted);
  if (finalized) {
    log.info({ status: finalized.status, counters: finalized.counters }, "job finished");
    await deps.notifier.jobFinished(finalized).catch((err: unknown) => log.warn({ err }, "reporting the job's end failed"));
  } else {
    const fresh = counted ?? (await deps.store.getJob(job.jobId));
    if (fresh) await deps.notifier.progress(fresh).catch((err: unknown) => log.warn({ err }, "reporting progress failed"));
  }
}

function terminalOf(o: RepoOutcome): [RepoStatus, RepoFields] {
  switch (o.kind) {
    case "completed":
      return ["COMPLETED", o.fields];
    case "no_changes":
      return ["NO_CHANGES", o.fields ?? {}];
    case "cancelled":
      return ["CANCELLED", { error: o.reason }];
    case "failed":
      return ["FAILED", { ...(o.fields ?? {}), error: o.reason }];
  }
}

async function linksFor(deps: RunRepoDeps, repo: RepoRow): Promise<{ diffUrl?: string; transcriptUrl?: string }> {
  const out: { diffUrl?: string; transcriptUrl?: string } = {};
  if (repo.diffKey) out.diffUrl = await deps.artifacts.link(repo.diffKey);
  if (repo.transcriptKey) out.transcriptUrl = await deps.artifacts.link(repo.transcriptKey);
  return out;
}
