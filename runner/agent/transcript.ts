/**
 * The transcript of one agent run: the whole conversation (system prompt, tools, every message
 * with its tool calls and results), usage per turn, the model and the limits, and how it ended.
 * Uploaded as JSON next to the diff; {@link redactTranscript} is the only way to serialize it.
 */
import type { MessageParam } from "@anthropic-ai/sdk/resources/messages";
import type { Usage } from "../../core/jobs/index.ts";
import { redact } from "../../core/runtime/index.ts";
import type { AgentLimits } from "./limits.ts";

/** One model call. */
export type TranscriptTurn = {
  turn: number;
  stopReason: string | null;
  usage: Usage;
  /** Milliseconds the call took, retries included. */
  ms: number;
  /** Failed attempts before this call succeeded, with why. */
  retries: string[];
  /** One entry per tool call of this turn. */
  toolCalls: { id: string; name: string; ok: boolean; ms: number; bytes: number }[];
};

export type Transcript = {
  version: 1;
  repository: string;
  model: string;
  limits: AgentLimits;
  startedAt: string;
  finishedAt?: string;
  system: string;
  tools: string[];
  messages: MessageParam[];
  turns: TranscriptTurn[];
  usage: Usage;
  costUsd: number;
  outcome?: { kind: string; reason?: string; summary?: string };
};

/** A fresh transcript. */
export function newTranscript(fields: Pick<Transcript, "repository" | "model" | "limits" | "system" | "tools">, now: Date): Transcript {
  return { version: 1, ...fields, startedAt: now.toISOString(), messages: [], turns: [], usage: zeroUsage(), costUsd: 0 };
}

/** Usage with every count at zero. */
export function zeroUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}

/**
 * Serializes `transcript` as indented JSON with every value of `secrets` (raw and JSON-escaped)
 * and every token-shaped string (see `redact` in core/runtime/log.ts) replaced by `[REDACTED]`.
 * Pure; the result is still valid JSON.
 */
export function redactTranscript(transcript: Transcript, secrets: readonly string[]): string {
  const forms = secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  return redact(JSON.stringify(transcript, null, 2), [...new Set(forms)]);
}
