/**
 * The agent as the per-repository orchestrator calls it: `runAgent` with the model and limits
 * bound, its log narrowed, and the transcript handed back as redacted JSON ready for upload.
 */
import type { Usage } from "../../core/jobs/index.ts";
import type { Logger } from "../../core/runtime/index.ts";
import type { AgentLimits } from "./limits.ts";
import { runAgent, type MessagesClient } from "./loop.ts";
import { redactTranscript } from "./transcript.ts";

/** What one repository's Claude run ended with; `transcript` is JSON with every secret removed. */
export type ClaudeOutcome =
  | { kind: "done"; summary: string; usage: Usage; costUsd: number; transcript: string }
  | { kind: "failed"; reason: string; usage: Usage; costUsd: number; transcript: string }
  | { kind: "aborted"; usage: Usage; costUsd: number; transcript: string };

/** Runs Claude over one checkout. */
export type ClaudeAgent = (
  input: { root: string; gitDir?: string; repository: string; instructions: string; verify?: (signal: AbortSignal) => Promise<{ ok: boolean; output: string }> },
  signal: AbortSignal,
) => Promise<ClaudeOutcome>;

/**
 * Binds `runAgent` to a client, a model and limits. `secrets` (e.g. `secretValues(config)`) are
 * removed from the transcript along with every token-shaped string. Same failure contract as
 * `runAgent`: expected endings are values.
 */
export function newClaudeAgent(
  deps: { client: MessagesClient; log: Logger; secrets: readonly string[] },
  opts: { model: string; limits: AgentLimits },
): ClaudeAgent {
  return async (input, signal) => {
    const log = deps.log.child({ step: "agent", model: opts.model });
    const r = await runAgent({ client: deps.client, log }, { ...input, model: opts.model, limits: opts.limits }, signal);
    const transcript = redactTranscript(r.transcript, deps.secrets);
    switch (r.kind) {
      case "done":
        return { kind: "done", summary: r.summary, usage: r.usage, costUsd: r.costUsd, transcript };
      case "failed":
        return { kind: "failed", reason: r.reason, usage: r.usage, costUsd: r.costUsd, transcript };
      case "aborted":
        return { kind: "aborted", usage: r.usage, costUsd: r.costUsd, transcript };
    }
  };
}
