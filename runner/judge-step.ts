/**
 * The scope judge's step in the per-repository run (issue 19): the staged change against the
 * job's instructions, one `verdict` request, its tokens counted with the repository's usage.
 */
import type { Job, RepoRow, ScopeCheck, Usage } from "../core/jobs/index.ts";
import type { ScopeJudge } from "./agent/judge.ts";
import type { SpendMeter } from "./agent/budget.ts";
import { addUsage } from "./agent/loop.ts";
import { zeroUsage } from "./agent/transcript.ts";
import type { Workspace } from "./workspace.ts";

/** The judge's requests and tokens so far, and the agent's (whole conversation) to add them to. */
export type JudgeTally = { requests: number; usage: Usage; costUsd: number; agentUsage?: Usage; agentCostUsd?: number };

/** A fresh tally. */
export function newJudgeTally(): JudgeTally {
  return { requests: 0, usage: zeroUsage(), costUsd: 0 };
}

/** What one judge round came to; `scopeCheck` goes on the row. */
export type JudgeRound =
  | { kind: "approve" | "veto"; reason: string; scopeCheck: ScopeCheck }
  | { kind: "failed"; reason: string; scopeCheck?: ScopeCheck };

/** The user turn Claude gets after a veto. */
export function vetoMessage(reason: string): string {
  return `A reviewer vetoed your change before it was pushed: ${reason}\n\nCorrect the change so that it does what the instructions ask and nothing else, then reply with an updated summary.`;
}

/**
 * Judges the staged change of `ws` (git diff --cached against the base). Adds the request's
 * usage to `tally`. `failed` when no judge is configured or the judge gave no valid verdict (the
 * reason says which); throws the signal's reason on abort.
 */
export async function judgeRound(
  deps: { judge?: ScopeJudge },
  input: { job: Pick<Job, "type" | "prompt" | "script" | "name" | "verify">; /** Instead of the job's (healing). */ instructions?: string; ws: Pick<Workspace, "stagedPatch">; tally: JudgeTally; meter?: SpendMeter; verified?: { ok: boolean; output: string } },
  signal: AbortSignal,
): Promise<JudgeRound> {
  if (!deps.judge) return { kind: "failed", reason: "the scope judge needs Claude (set ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL), or turn it off (--no-judge)" };
  const { job } = input;
  const instructions = input.instructions ?? (job.type === "script" ? `${job.name}\n\nThe change was made by this shell script:\n${job.script ?? ""}` : (job.prompt ?? ""));
  const diff = await input.ws.stagedPatch(signal);
  const v = await deps.judge(
    {
      instructions,
      diff,
      ...(job.verify && input.verified ? { verify: { command: job.verify, ok: input.verified.ok, output: input.verified.output } } : {}),
      ...(input.meter ? { meter: input.meter } : {}),
    },
    signal,
  );
  input.tally.requests += 1;
  addUsage(input.tally.usage, v.usage);
  input.tally.costUsd = Math.round((input.tally.costUsd + v.costUsd) * 10_000) / 10_000;
  if (v.kind === "aborted") throw signal.reason ?? new Error("aborted");
  if (v.kind === "failed") return { kind: "failed", reason: v.reason };
  return { kind: v.kind, reason: v.reason, scopeCheck: { decision: v.kind, reason: v.reason, requests: input.tally.requests } };
}

/**
 * `fields` with usage and cost = the agent's (as last recorded in `tally`, else `fields`' own)
 * plus the judge's, and the scope check when given. Unchanged without a tally.
 */
export function withJudgeUsage<F extends Pick<RepoRow, "usage" | "costUsd" | "scopeCheck">>(fields: F, tally: JudgeTally | undefined, scopeCheck?: ScopeCheck): F {
  if (!tally) return fields;
  const usage = { ...(tally.agentUsage ?? zeroUsage()) };
  addUsage(usage, tally.usage);
  const costUsd = Math.round(((tally.agentCostUsd ?? 0) + tally.costUsd) * 10_000) / 10_000;
  return { ...fields, usage, costUsd, ...(scopeCheck ? { scopeCheck } : {}) };
}
