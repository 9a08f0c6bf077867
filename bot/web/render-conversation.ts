/**
 * A Claude conversation (the transcript JSON the runner stores, runner/agent/transcript.ts)
 * rendered as HTML: each message with its role, text, tool calls (name and input) and tool
 * results (errors marked), the usage per turn and how it ended. Long texts are cut. Every value
 * is escaped. Pure; a transcript that does not parse renders as a short note.
 */
import { compact, cut, esc } from "./html-text.ts";

/** At most this many characters of one text, tool input or tool result are shown. */
export const MAX_BLOCK_CHARS = 6000;

type Block = { type?: string; text?: string; name?: string; input?: unknown; content?: unknown; is_error?: boolean; id?: string; tool_use_id?: string };
type Message = { role?: string; content?: string | Block[] };
type Turn = { turn?: number; stopReason?: string | null; usage?: Record<string, number>; ms?: number; toolCalls?: { name?: string; ok?: boolean; ms?: number }[] };
type TranscriptLike = { model?: string; system?: string; messages?: Message[]; turns?: Turn[]; usage?: Record<string, number>; costUsd?: number; outcome?: { kind?: string; reason?: string; summary?: string } };

/** The conversation's HTML from the stored (already redacted) transcript text. */
export function renderConversation(json: string): string {
  let t: TranscriptLike;
  try {
    t = JSON.parse(json) as TranscriptLike;
  } catch {
    return `<p class="empty">The conversation could not be read.</p>`;
  }
  if (!t || typeof t !== "object") return `<p class="empty">The conversation could not be read.</p>`;
  const out: string[] = [];
  const u = t.usage ?? {};
  const usageLine = [
    t.model ? `model ${esc(t.model)}` : "",
    `${compact((u.inputTokens ?? 0) + (u.cacheReadTokens ?? 0) + (u.cacheWriteTokens ?? 0))} tokens in`,
    `${compact(u.outputTokens ?? 0)} out`,
    typeof t.costUsd === "number" ? `$${t.costUsd.toFixed(2)}` : "",
    t.outcome?.kind ? `ended: ${esc(t.outcome.kind)}${t.outcome.reason ? ` (${esc(cut(t.outcome.reason, 300))})` : ""}` : "",
  ].filter(Boolean);
  out.push(`<p class="usage">${usageLine.join(" · ")}</p>`);
  if (t.system) out.push(`<details class="msg system"><summary>System prompt</summary><pre>${esc(cut(t.system, MAX_BLOCK_CHARS))}</pre></details>`);
  const turns = Array.isArray(t.turns) ? t.turns : [];
  let assistantIndex = 0;
  for (const m of Array.isArray(t.messages) ? t.messages : []) {
    const role = m.role === "assistant" ? "assistant" : "user";
    const blocks: Block[] = typeof m.content === "string" ? [{ type: "text", text: m.content }] : Array.isArray(m.content) ? m.content : [];
    const parts = blocks.map(renderBlock).join("");
    let meta = "";
    if (role === "assistant") {
      const turn = turns[assistantIndex++];
      if (turn?.usage) meta = `<span class="turn-usage">turn ${esc(turn.turn ?? assistantIndex)} · ${compact(turn.usage.inputTokens ?? 0)} in / ${compact(turn.usage.outputTokens ?? 0)} out${turn.stopReason ? ` · ${esc(turn.stopReason)}` : ""}</span>`;
    }
    const isResults = role === "user" && blocks.length > 0 && blocks.every((b) => b.type === "tool_result");
    const label = role === "assistant" ? "Claude" : isResults ? "Tool results" : "Instructions";
    out.push(`<article class="msg ${role}${isResults ? " results" : ""}"><header><b>${label}</b>${meta}</header>${parts}</article>`);
  }
  if (t.outcome?.summary) out.push(`<article class="msg outcome"><header><b>Summary</b></header><p class="text">${esc(cut(t.outcome.summary, MAX_BLOCK_CHARS))}</p></article>`);
  return `<div class="conversation">${out.join("")}</div>`;
}

function renderBlock(b: Block): string {
  switch (b.type) {
    case "text":
      return `<p class="text">${esc(cut(String(b.text ?? ""), MAX_BLOCK_CHARS))}</p>`;
    case "tool_use":
      return `<details class="tool-call"><summary>🔧 tool call <code>${esc(b.name ?? "?")}</code></summary><pre>${esc(cut(JSON.stringify(b.input ?? {}, null, 2), MAX_BLOCK_CHARS))}</pre></details>`;
    case "tool_result": {
      const text = typeof b.content === "string" ? b.content : Array.isArray(b.content) ? (b.content as Block[]).map((c) => (c.type === "text" ? String(c.text ?? "") : `[${c.type ?? "block"}]`)).join("\n") : "";
      return `<details class="tool-result${b.is_error ? " error" : ""}"><summary>${b.is_error ? "✖ tool error" : "↩ tool result"}</summary><pre>${esc(cut(text, MAX_BLOCK_CHARS))}</pre></details>`;
    }
    default:
      return `<p class="note">[${esc(b.type ?? "block")}]</p>`;
  }
}
