/**
 * The Anthropic client of the runner, and the translation of its errors into retry decisions.
 * The SDK's own retries are switched off: the agent loop retries within the repository's time
 * budget, so the SDK's retries and ours cannot multiply.
 */
import Anthropic, { APIConnectionError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import type { Config } from "../../core/config/index.ts";

/**
 * The model used when `CLAUDE_MODEL` is not set: the newest Sonnet-class model that
 * @anthropic-ai/sdk 1.12.0 lists and does not mark deprecated.
 */
export const DEFAULT_MODEL = "claude-sonnet-5-5";

/** The model a config asks for (`CLAUDE_MODEL`), else {@link DEFAULT_MODEL}. */
export function modelFor(config: Config): string {
  return config.anthropic.model ?? DEFAULT_MODEL;
}

/** True when Claude can be reached: an API key, or a base URL of an Anthropic-compatible server. */
export function isClaudeConfigured(config: Config): boolean {
  return Boolean(config.anthropic.apiKey || config.anthropic.baseUrl);
}

/**
 * Builds the client from `config.anthropic` only: it never falls back to the SDK's own
 * environment or profile lookup. Without an API key (a compatible server behind
 * `ANTHROPIC_BASE_URL`) no credential header is sent. `timeoutMs` bounds one HTTP request
 * (default 5 minutes); the SDK does not retry (`maxRetries: 0`).
 */
export function newModelClient(config: Config, opts: { timeoutMs?: number; fetch?: typeof fetch } = {}): Anthropic {
  const apiKey = config.anthropic.apiKey;
  return new Anthropic({
    baseURL: config.anthropic.baseUrl ?? "https://api.anthropic.com",
    ...(apiKey ? { apiKey } : { apiKey: null, authToken: null, defaultHeaders: { "x-api-key": null, authorization: null } }),
    maxRetries: 0,
    timeout: opts.timeoutMs ?? 5 * 60 * 1000,
    logLevel: "off",
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}

/** What to do after a failed model call. `reason` is short, for people, and holds no secret. */
export type ModelFailure =
  | { kind: "retry"; reason: string; delayMs?: number }
  | { kind: "fatal"; reason: string }
  | { kind: "aborted" };

const SPEND_LIMIT_CODES = new Set(["contract_spend_limit_reached", "enforced_spend_limit_reached"]);
const SPEND_LIMIT_TEXT = /spend(ing)? limit|usage limit|credit balance|billing|quota/i;

/**
 * Classifies an error thrown by `messages.create`: 429 (except a reached spend or usage limit),
 * 529 overloaded, 408, 409, 5xx and connection errors are retried, with the server's
 * `retry-after-ms` / `retry-after` when it sends one; an abort is `aborted`; everything else
 * (400, 401, 402, 403, 404, 413, a spend limit, an unknown error) is fatal.
 */
export function classifyModelError(err: unknown): ModelFailure {
  if (err instanceof APIUserAbortError) return { kind: "aborted" };
  if (err instanceof APIConnectionError) return { kind: "retry", reason: "could not reach the Claude API" };
  if (!(err instanceof APIError) || err.status === undefined) {
    return { kind: "fatal", reason: `Claude API call failed: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}` };
  }
  const status = err.status;
  const message = (err.apiMessage ?? "").slice(0, 200);
  const delayMs = retryAfterMs(err.headers);
  if (status === 429) {
    if ((err.errorCode && SPEND_LIMIT_CODES.has(err.errorCode)) || SPEND_LIMIT_TEXT.test(message)) {
      return { kind: "fatal", reason: `Claude API spend limit reached: ${message || "429"}` };
    }
    return { kind: "retry", reason: "rate limited by the Claude API (429)", ...(delayMs !== undefined ? { delayMs } : {}) };
  }
  if (status === 529) return { kind: "retry", reason: "the Claude API is overloaded (529)", ...(delayMs !== undefined ? { delayMs } : {}) };
  if (status === 408 || status === 409 || status >= 500) {
    return { kind: "retry", reason: `the Claude API answered ${status}`, ...(delayMs !== undefined ? { delayMs } : {}) };
  }
  if (status === 401 || status === 403) return { kind: "fatal", reason: `the Claude API refused the credentials (${status}): ${message}` };
  if (status === 402) return { kind: "fatal", reason: `the Claude API needs payment (402): ${message}` };
  return { kind: "fatal", reason: `the Claude API rejected the request (${status}): ${message}` };
}

/** Milliseconds the server asks to wait: `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get("retry-after-ms") ?? "");
  if (headers.get("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const raw = headers.get("retry-after");
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(raw);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}

/** Backoff without a server hint: 1 s, 2 s, 4 s … capped at 60 s, with ±20 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(60_000, 1000 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}
