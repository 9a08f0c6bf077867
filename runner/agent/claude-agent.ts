/**
 * The agent as the per-repository orchestrator calls it: `runAgent` with the model and limits
 * bound, its log narrowed, and the transcript handed back as redacted JSON ready for upload.
 * Also the scope judge bound the same way (runner/agent/judge.ts).
 */
import type { Usage } from "../../core/jobs/index.ts";
import type { Logger } from "../../core/runtime/index.ts";
import type { SpendMeter } from "./budget.ts";
import { judgeChange, type ScopeJudge } from "./judge.ts";
import type { AgentLimits } from "./limits.ts";
import { runAgent, type MessagesClient } from "./loop.ts";
import { redactTranscript, type Transcript } from "./transcript.ts";

/** Continues the same conversation with one more user message (e.g. the judge's veto). */
export type FollowUp = (message: string, signal: AbortSignal) => Promise<ClaudeOutcome>;

/** What one repository's Claude run ended with; `transcript` is JSON with every secret removed. */
export type ClaudeOutcome =
  | { kind: "done"; summary: string; usage: Usage; costUsd: number; transcript: string; followUp?: FollowUp }
  | { kind: "failed"; reason: string; usage: Usage; costUsd: number; transcript: string }
  | { kind: "aborted"; usage: Usage; costUsd: number; transcript: string };

/** Runs Claude over one checkout. */
export type ClaudeAgent = (
  input: {
    root: string;
    gitDir?: string;
    repository: string;
    instructions: string;
    verify?: (signal: AbortSignal) => Promise<{ ok: boolean; output: string }>;
    meter?: SpendMeter;
  },
  signal: AbortSignal,
) => Promise<ClaudeOutcome>;

/**
 * Binds `runAgent` to a client, a model and limits. `secrets` (e.g. `secretValues(config)`) are
 * removed from the transcript along with every token-shaped string. Same failure contract as
 * `runAgent`: expected endings are values. A `done` outcome carries `followUp`, which continues
 * the conversation; usage and cost of the outcome it returns are the whole conversation's.
 */
export function newClaudeAgent(
  deps: { client: MessagesClient; log: Logger; secrets: readonly string[] },
  opts: { model: string; limits: AgentLimits },
): ClaudeAgent {
  return (input, signal) => {
    const log = deps.log.child({ step: "agent", model: opts.model });
    const run = async (resume: { transcript: Transcript; message: string } | undefined, s: AbortSignal): Promise<ClaudeOutcome> => {
      const r = await runAgent({ client: deps.client, log }, { ...input, model: opts.model, limits: opts.limits, ...(resume ? { resume } : {}) }, s);
      const transcript = redactTranscript(r.transcript, deps.secrets);
      switch (r.kind) {
        case "done":
          return { kind: "done", summary: r.summary, usage: r.usage, costUsd: r.costUsd, transcript, followUp: (message, s2) => run({ transcript: r.transcript, message }, s2) };
        case "failed":
          return { kind: "failed", reason: r.reason, usage: r.usage, costUsd: r.costUsd, transcript };
        case "aborted":
          return { kind: "aborted", usage: r.usage, costUsd: r.costUsd, transcript };
      }
    };
    return run(undefined, signal);
  };
}

/** Binds the scope judge to a client and its model (`CLAUDE_JUDGE_MODEL`, else the agent's). */
export function newScopeJudge(deps: { client: MessagesClient; log: Logger }, opts: { model: string }): ScopeJudge {
  return (input, signal) => judgeChange({ client: deps.client, log: deps.log.child({ step: "judge", model: opts.model }) }, { ...input, model: opts.model }, signal);
}
