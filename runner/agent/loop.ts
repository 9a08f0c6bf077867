/**
 * The agent loop: drives Claude through tool use over one checkout until it finishes, a budget
 * runs out, or the run is cancelled. Expected endings are values; the transcript of every run
 * comes back with it.
 */
import { realpath } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import type {
  ContentBlockParam,
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  ToolResultBlockParam,
  ToolUnion,
  ToolUseBlock,
} from "@anthropic-ai/sdk/resources/messages";
import type { Usage } from "../../core/jobs/index.ts";
import type { Logger } from "../../core/runtime/index.ts";
import { backoffMs, classifyModelError } from "./client.ts";
import type { AgentLimits } from "./limits.ts";
import { estimateCostUsd, priceFor } from "./pricing.ts";
import { firstMessage, systemPrompt } from "./prompt.ts";
import { callTool, newTools, type Tool } from "./tools.ts";
import { newTranscript, type Transcript, type TranscriptTurn } from "./transcript.ts";

export type { AgentLimits } from "./limits.ts";

/** The model port: the one SDK call the loop makes. `Anthropic` from @anthropic-ai/sdk satisfies it. */
export type MessagesClient = {
  messages: { create(body: MessageCreateParamsNonStreaming, options: { signal: AbortSignal }): PromiseLike<Message> };
};

export type AgentDeps = {
  client: MessagesClient;
  log: Logger;
  /** Waits between retries; tests pass one that records and returns at once. Rejects on abort. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Clock for the time budget's retry decisions (default Date.now). */
  now?: () => number;
};

export type AgentInput = {
  /** The checkout. */
  root: string;
  /** The runner's own git directory for the checkout (runner/workspace.ts), used by `search`. */
  gitDir?: string;
  /** `owner/name`, for the prompt and the transcript. */
  repository: string;
  /** The job's instructions, as the person wrote them. */
  instructions: string;
  /** The job's verify command, bound to this checkout; offered to the model as `run_checks`. */
  verify?: (signal: AbortSignal) => Promise<{ ok: boolean; output: string }>;
  model: string;
  limits: AgentLimits;
};

export type AgentResult =
  | { kind: "done"; summary: string; usage: Usage; costUsd: number; transcript: Transcript }
  | { kind: "failed"; reason: string; usage: Usage; costUsd: number; transcript: Transcript }
  | { kind: "aborted"; usage: Usage; costUsd: number; transcript: Transcript };

type Ending = { kind: "done"; summary: string } | { kind: "failed"; reason: string } | { kind: "aborted" };

/**
 * Runs the agent on `input.root` until Claude ends its turn (`done`, with its summary), a limit
 * is reached or the API fails for good (`failed`, with a reason for people), or `signal` aborts
 * (`aborted`). Edits files in the checkout only; never throws for the model's or the API's
 * failures (only for a missing checkout). Logs one line per tool call and one at the end.
 */
export async function runAgent(deps: AgentDeps, input: AgentInput, signal: AbortSignal): Promise<AgentResult> {
  const { limits, model } = input;
  const now = deps.now ?? Date.now;
  const deadline = now() + limits.timeLimitSeconds * 1000;
  const budget = AbortSignal.any([signal, AbortSignal.timeout(limits.timeLimitSeconds * 1000)]);
  const tools = newTools({ root: await realpath(input.root), rootAliases: [input.root], maxFileBytes: limits.maxFileBytes, verify: input.verify, ...(input.gitDir ? { gitDir: input.gitDir } : {}) });
  const system = systemPrompt(input.instructions, input.verify !== undefined);
  const transcript = newTranscript({ repository: input.repository, model, limits, system, tools: tools.map((t) => t.name) }, new Date(now()));
  const messages = transcript.messages;
  messages.push({ role: "user", content: [{ type: "text", text: firstMessage(input.repository) }] });
  const wireTools = toWire(tools);
  if (!priceFor(model)) deps.log.warn({ model }, "no price for model; cost reported as 0");

  const finish = (end: Ending): AgentResult => {
    const costUsd = estimateCostUsd(model, transcript.usage);
    transcript.costUsd = costUsd;
    transcript.finishedAt = new Date(now()).toISOString();
    transcript.outcome = end;
    deps.log.info({ outcome: end.kind, turns: transcript.turns.length, usage: transcript.usage, costUsd }, "agent finished");
    return { ...end, usage: { ...transcript.usage }, costUsd, transcript };
  };
  const stopped = (): Ending =>
    signal.aborted ? { kind: "aborted" } : { kind: "failed", reason: `time limit of ${limits.timeLimitSeconds}s reached before Claude finished` };

  for (let turn = 1; turn <= limits.maxTurns; turn++) {
    if (budget.aborted) return finish(stopped());
    const body: MessageCreateParamsNonStreaming = {
      model,
      max_tokens: limits.maxOutputTokens,
      system: [{ type: "text", text: system, cache_control: { type: "ephemeral" } }],
      tools: wireTools,
      messages: withCacheBreakpoint(messages),
    };
    const started = now();
    const call = await callModel(deps, body, { budget, deadline, maxRetries: limits.maxRetries, now, turn });
    if (call.kind === "aborted") return finish(stopped());
    if (call.kind === "failed") return finish({ kind: "failed", reason: call.reason });
    const res = call.message;
    const record: TranscriptTurn = { turn, stopReason: res.stop_reason, usage: usageOf(res), ms: now() - started, retries: call.retries, toolCalls: [] };
    transcript.turns.push(record);
    addUsage(transcript.usage, record.usage);
    const content = res.content as unknown as ContentBlockParam[];
    if (content.length > 0) messages.push({ role: "assistant", content });

    switch (res.stop_reason) {
      case "end_turn":
      case "stop_sequence":
        return finish({ kind: "done", summary: summaryOf(messages) });
      case "refusal":
        return finish({ kind: "failed", reason: "Claude refused the request (stop reason: refusal)" });
      case "model_context_window_exceeded":
        return finish({ kind: "failed", reason: "the conversation outgrew the model's context window before Claude finished" });
      case "tool_use":
      case "max_tokens":
      case "pause_turn":
        break;
      default:
        return finish({ kind: "failed", reason: `Claude stopped for an unexpected reason: ${String(res.stop_reason)}` });
    }
    const used = totalTokens(transcript.usage);
    if (used > limits.maxTotalTokens) {
      return finish({ kind: "failed", reason: `token limit of ${limits.maxTotalTokens} reached (${used} used) before Claude finished` });
    }
    const toolUses = res.content.filter((b): b is ToolUseBlock => b.type === "tool_use");
    if (res.stop_reason === "tool_use" || toolUses.length > 0) {
      const truncated = res.stop_reason === "max_tokens";
      const results: ToolResultBlockParam[] = [];
      for (const use of toolUses) {
        if (budget.aborted) return finish(stopped());
        try {
          results.push(await runToolUse(deps.log, tools, use, { truncated, turn, record, maxBytes: limits.maxToolResultBytes, maxOutputTokens: limits.maxOutputTokens }, budget));
        } catch (err) {
          if (budget.aborted) return finish(stopped());
          throw err;
        }
      }
      messages.push({ role: "user", content: results.length > 0 ? results : [{ type: "text", text: "No tool call was received; continue." }] });
    } else if (res.stop_reason === "max_tokens" || content.length === 0) {
      messages.push({ role: "user", content: [{ type: "text", text: "Your reply was cut off at the output limit. Continue where you stopped, in smaller steps." }] });
    }
    // pause_turn with content: the assistant message is sent back as it is, and Claude continues it.
  }
  return finish({ kind: "failed", reason: `turn limit of ${limits.maxTurns} reached before Claude finished` });
}

type Call = { kind: "ok"; message: Message; retries: string[] } | { kind: "failed"; reason: string } | { kind: "aborted" };

/**
 * One model call with bounded retries: 429 / 529 / 5xx / connection errors wait for the
 * server's retry-after (else exponential backoff) as long as the wait ends before the deadline.
 */
async function callModel(
  deps: AgentDeps,
  body: MessageCreateParamsNonStreaming,
  opts: { budget: AbortSignal; deadline: number; maxRetries: number; now: () => number; turn: number },
): Promise<Call> {
  const sleep = deps.sleep ?? ((ms: number, s: AbortSignal) => delay(ms, undefined, { signal: s }));
  const retries: string[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      return { kind: "ok", message: await deps.client.messages.create(body, { signal: opts.budget }), retries };
    } catch (err) {
      if (opts.budget.aborted) return { kind: "aborted" };
      const f = classifyModelError(err);
      if (f.kind === "aborted") return f;
      if (f.kind === "fatal") return { kind: "failed", reason: f.reason };
      if (attempt >= opts.maxRetries) return { kind: "failed", reason: `${f.reason}; gave up after ${attempt + 1} attempts` };
      const waitMs = f.delayMs ?? backoffMs(attempt);
      if (opts.now() + waitMs > opts.deadline) {
        return { kind: "failed", reason: `${f.reason}; waiting ${Math.ceil(waitMs / 1000)}s more would pass the time limit` };
      }
      deps.log.warn({ turn: opts.turn, attempt: attempt + 1, waitMs, reason: f.reason }, "model call failed; retrying");
      retries.push(f.reason);
      try {
        await sleep(waitMs, opts.budget);
      } catch {
        return { kind: "aborted" };
      }
      if (opts.budget.aborted) return { kind: "aborted" };
    }
  }
}

/** Runs one tool_use block and logs it; the result is always a tool_result (errors included). */
async function runToolUse(
  log: Logger,
  tools: Tool[],
  use: ToolUseBlock,
  ctx: { truncated: boolean; turn: number; record: TranscriptTurn; maxBytes: number; maxOutputTokens: number },
  signal: AbortSignal,
): Promise<ToolResultBlockParam> {
  const started = Date.now();
  const tool = tools.find((t) => t.name === use.name);
  const out = ctx.truncated
    ? { ok: false, content: `Your reply hit the output limit (${ctx.maxOutputTokens} tokens) before this tool call was complete, so it was not run. Send it again in smaller pieces (for example several str_replace edits instead of one large create).` }
    : tool
      ? await callTool(tool, use.input, signal)
      : { ok: false, content: `unknown tool ${JSON.stringify(use.name)}; the tools are ${tools.map((t) => t.name).join(", ")}` };
  const content = capBytes(out.content, ctx.maxBytes);
  const ms = Date.now() - started;
  const bytes = Buffer.byteLength(content);
  ctx.record.toolCalls.push({ id: use.id, name: use.name, ok: out.ok, ms, bytes });
  const i = (use.input ?? {}) as Record<string, unknown>;
  log.info(
    { turn: ctx.turn, tool: use.name, command: typeof i.command === "string" ? i.command : undefined, path: typeof i.path === "string" ? i.path : undefined, ok: out.ok, ms, bytes },
    "tool call finished",
  );
  return { type: "tool_result", tool_use_id: use.id, content: content || "(empty)", ...(out.ok ? {} : { is_error: true }) };
}

/** Cuts `text` to `max` bytes (on a character boundary) with a visible note of what was left out. */
export function capBytes(text: string, max: number): string {
  const size = Buffer.byteLength(text);
  if (size <= max) return text;
  let cut = Buffer.from(text).subarray(0, max).toString("utf8");
  if (cut.endsWith("\uFFFD")) cut = cut.slice(0, -1);
  return `${cut}\n[output truncated: ${size - Buffer.byteLength(cut)} of ${size} bytes not shown; view a smaller range or narrow the search]`;
}

/** The tool definitions as sent, the last one carrying a cache breakpoint (tools come first in the prompt). */
function toWire(tools: Tool[]): ToolUnion[] {
  return tools.map((t, i): ToolUnion => {
    const cache = i === tools.length - 1 ? { cache_control: { type: "ephemeral" as const } } : {};
    if (t.anthropicType === "text_editor_20250728") return { type: t.anthropicType, name: "str_replace_based_edit_tool", ...cache };
    const { $schema: _ignored, ...schema } = t.inputSchema.toJSONSchema() as Record<string, unknown>;
    return { name: t.name, description: t.description, input_schema: schema as { type: "object" }, ...cache };
  });
}

/**
 * The conversation with a cache breakpoint on the last block of the last message, so the next
 * turn reads everything before it from cache. The stored messages are not changed.
 */
export function withCacheBreakpoint(messages: MessageParam[]): MessageParam[] {
  const last = messages.at(-1);
  if (!last || typeof last.content === "string" || last.content.length === 0) return [...messages];
  const blocks = [...last.content];
  blocks[blocks.length - 1] = { ...blocks[blocks.length - 1]!, cache_control: { type: "ephemeral" } } as ContentBlockParam;
  return [...messages.slice(0, -1), { ...last, content: blocks } as MessageParam];
}

/** Claude's summary: the text of the last assistant message that has text. */
function summaryOf(messages: MessageParam[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== "assistant" || typeof m.content === "string") continue;
    const text = m.content
      .filter((b): b is { type: "text"; text: string } => b.type === "text")
      .map((b) => b.text)
      .join("\n")
      .trim();
    if (text) return text.length > 4000 ? `${text.slice(0, 4000)} …` : text;
  }
  return "Claude finished without a summary.";
}

function usageOf(m: Message): Usage {
  return {
    inputTokens: m.usage?.input_tokens ?? 0,
    outputTokens: m.usage?.output_tokens ?? 0,
    cacheReadTokens: m.usage?.cache_read_input_tokens ?? 0,
    cacheWriteTokens: m.usage?.cache_creation_input_tokens ?? 0,
  };
}

function addUsage(into: Usage, u: Usage): void {
  into.inputTokens += u.inputTokens;
  into.outputTokens += u.outputTokens;
  into.cacheReadTokens += u.cacheReadTokens;
  into.cacheWriteTokens += u.cacheWriteTokens;
}

function totalTokens(u: Usage): number {
  return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}
