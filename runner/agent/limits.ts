/**
 * The agent's per-repository budgets, with defaults and their environment variables.
 */
import { ConfigError } from "../../core/config/index.ts";

/** Budgets of one agent run (one repository). */
export type AgentLimits = {
  /** Model calls (turns) before the run fails. */
  maxTurns: number;
  /** Input + output + cache read + cache write tokens over the whole run. */
  maxTotalTokens: number;
  /** Wall-clock seconds for the whole run, retries and tool calls included. */
  timeLimitSeconds: number;
  /** Bytes of one tool result sent back to the model; longer results are cut with a note. */
  maxToolResultBytes: number;
  /** Largest file the editor tool views, edits or creates. */
  maxFileBytes: number;
  /** `max_tokens` of one model response. */
  maxOutputTokens: number;
  /** Retries of one model call after 429 / 529 / 5xx / connection errors (within the time limit). */
  maxRetries: number;
};

/** Defaults: generous for a real change, small enough that a runaway run stops at a few dollars. */
export const DEFAULT_AGENT_LIMITS: AgentLimits = {
  maxTurns: 60,
  maxTotalTokens: 4_000_000,
  timeLimitSeconds: 30 * 60,
  maxToolResultBytes: 32 * 1024,
  maxFileBytes: 1024 * 1024,
  maxOutputTokens: 8192,
  maxRetries: 8,
};

/** The environment variable of each limit. */
export const AGENT_LIMIT_VARIABLES: Readonly<Record<keyof AgentLimits, string>> = {
  maxTurns: "CLAUDE_MAX_TURNS",
  maxTotalTokens: "CLAUDE_MAX_TOTAL_TOKENS",
  timeLimitSeconds: "CLAUDE_TIME_LIMIT_SECONDS",
  maxToolResultBytes: "CLAUDE_MAX_TOOL_RESULT_BYTES",
  maxFileBytes: "CLAUDE_MAX_FILE_BYTES",
  maxOutputTokens: "CLAUDE_MAX_OUTPUT_TOKENS",
  maxRetries: "CLAUDE_MAX_RETRIES",
};

/**
 * Reads the limits from the environment ({@link AGENT_LIMIT_VARIABLES}); unset or empty variables
 * take the defaults. Throws {@link ConfigError} naming the variable when a value is not a
 * positive whole number (`CLAUDE_MAX_RETRIES` may be 0), or when `CLAUDE_MAX_OUTPUT_TOKENS` is
 * above 21333 (the SDK refuses longer non-streaming calls).
 */
export function agentLimitsFrom(env: NodeJS.ProcessEnv): AgentLimits {
  const limits = { ...DEFAULT_AGENT_LIMITS };
  for (const key of Object.keys(AGENT_LIMIT_VARIABLES) as (keyof AgentLimits)[]) {
    const name = AGENT_LIMIT_VARIABLES[key];
    const raw = env[name]?.trim();
    if (!raw) continue;
    const n = Number(raw);
    const min = key === "maxRetries" ? 0 : 1;
    if (!Number.isInteger(n) || n < min) {
      throw new ConfigError(`${name}: must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
    }
    limits[key] = n;
  }
  if (limits.maxOutputTokens > 21_333) {
    throw new ConfigError(`${AGENT_LIMIT_VARIABLES.maxOutputTokens}: at most 21333 (longer responses need streaming)`);
  }
  return limits;
}
