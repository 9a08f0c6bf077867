/**
 * An in-process fake of the Slack Web API for tests: an HTTP server on 127.0.0.1:0 that speaks
 * `POST /api/<method>` (form or JSON bodies, `Authorization: Bearer xoxb-…`), records every call,
 * keeps the messages it was sent, enforces Slack's message limits (answers `invalid_blocks`), and
 * can answer 429 with `Retry-After` or 500 for a configured fraction of calls. Any method it does
 * not serve gets 501 naming it, so a new call cannot pass unnoticed.
 *
 * Also: {@link signSlackRequest}, which signs a request to the bot exactly as Slack does.
 */
import { readBody } from "./http.ts";
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One recorded Web API call (after authentication; failed-on-purpose attempts included). */
export type SlackCall = {
  method: string;
  args: Record<string, unknown>;
  /** What the fake answered: 200, 429 or 500. */
  status: number;
  /** The `error` of an `ok: false` answer. */
  error?: string;
};

/** A message as the fake holds it. */
export type FakeMessage = {
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown[];
  updates: number;
};

export type FakeSlackOptions = {
  /** The bot token to accept (default `xoxb-test-token`). */
  token?: string;
  /** Fraction of calls (0..1) answered 429 with `Retry-After: retryAfterSeconds` (default 0 s). */
  rateLimitFraction?: number;
  retryAfterSeconds?: number;
  /** Fraction of calls (0..1) answered 500. */
  serverErrorFraction?: number;
  /** Random source for the fractions (default Math.random). */
  random?: () => number;
  /** Channels the bot is not a member of: postMessage there answers `not_in_channel`. */
  notInChannels?: string[];
};

export type FakeSlack = {
  /** Base URL for `slackApiUrl`; ends in `/api/`. */
  apiUrl: string;
  token: string;
  calls: SlackCall[];
  /** Successful calls of a method. */
  ok(method: string): SlackCall[];
  messages: FakeMessage[];
  /** Replies in a thread, in order. */
  replies(channel: string, threadTs: string): FakeMessage[];
  setFractions(f: { rateLimitFraction?: number; serverErrorFraction?: number }): void;
  close(): Promise<void>;
  // --- botsec: scripted refusals ---
  /**
   * The next `times` (default 1) calls of `method` that carry blocks answer `ok: false` with
   * `error` (e.g. `invalid_blocks`), as Slack does for a limit the fake does not model; only in
   * `channel` when given, and also for calls without blocks with `evenWithoutBlocks`.
   */
  refuseBlocks(method: string, error: string, times?: number, opts?: { channel?: string; evenWithoutBlocks?: boolean }): void;
  // --- end botsec ---
};

const SERVED = new Set([
  "auth.test",
  "chat.postMessage",
  "chat.update",
  "chat.postEphemeral",
  "views.open",
  "views.update",
  "views.push",
]);

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const token = opts.token ?? "xoxb-test-token";
  const random = opts.random ?? Math.random;
  let rateLimitFraction = opts.rateLimitFraction ?? 0;
  let serverErrorFraction = opts.serverErrorFraction ?? 0;
  const notIn = new Set(opts.notInChannels ?? []);
  const calls: SlackCall[] = [];
  const messages: FakeMessage[] = [];
  let seq = 0;
  let viewSeq = 0;
  const nextTs = () => `1700000000.${String(++seq).padStart(6, "0")}`;
  // --- botsec: scripted refusals ---
  const refusals: Array<{ method: string; error: string; times: number; channel?: string; evenWithoutBlocks?: boolean }> = [];
  const scriptedRefusal = (method: string, args: Record<string, unknown>): string | undefined => {
    const r = refusals.find((x) => x.method === method && x.times > 0 && (x.channel === undefined || x.channel === args.channel));
    if (!r || (args.blocks === undefined && !r.evenWithoutBlocks)) return undefined;
    r.times -= 1;
    return r.error;
  };
  // --- end botsec ---

  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    const m = /^\/api\/([A-Za-z.]+)$/.exec(req.url?.split("?")[0] ?? "");
    if (req.method !== "POST" || !m) return send(404, { ok: false, error: "unknown_route" });
    const method = m[1]!;
    if (!SERVED.has(method)) return send(501, { ok: false, error: `fake Slack does not serve ${method}` });
    if (req.headers.authorization !== `Bearer ${token}`) return send(200, { ok: false, error: "invalid_auth" });
    const args = parseBody(await readBody(req), String(req.headers["content-type"] ?? ""));
    const call: SlackCall = { method, args, status: 200 };
    calls.push(call);
    if (method !== "auth.test") {
      if (random() < rateLimitFraction) {
        call.status = 429;
        return send(429, { ok: false, error: "ratelimited" }, { "retry-after": String(opts.retryAfterSeconds ?? 0) });
      }
      if (random() < serverErrorFraction) {
        call.status = 500;
        return send(500, { ok: false, error: "internal_error" });
      }
    }
    const refused = scriptedRefusal(method, args); // botsec
    const answer = refused ? { ok: false, error: refused } : serve(method, args);
    if (answer.ok === false) call.error = String(answer.error);
    send(200, answer);
  });

  function serve(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case "auth.test":
        return { ok: true, user_id: "UBOT", bot_id: "BBOT", team_id: "T1", user: "cody" };
      case "chat.postMessage": {
        const channel = String(args.channel ?? "");
        if (!channel) return { ok: false, error: "channel_not_found" };
        if (notIn.has(channel)) return { ok: false, error: "not_in_channel" };
        const problem = messageProblem(args);
        if (problem) return { ok: false, error: "invalid_blocks", response_metadata: { messages: [problem] } };
        const ts = nextTs();
        messages.push({
          channel,
          ts,
          ...(args.thread_ts ? { threadTs: String(args.thread_ts) } : {}),
          text: args.text as string | undefined,
          blocks: args.blocks as unknown[] | undefined,
          updates: 0,
        });
        return { ok: true, channel, ts, message: { text: args.text } };
      }
      case "chat.update": {
        const msg = messages.find((x) => x.channel === args.channel && x.ts === args.ts);
        if (!msg) return { ok: false, error: "message_not_found" };
        const problem = messageProblem(args);
        if (problem) return { ok: false, error: "invalid_blocks", response_metadata: { messages: [problem] } };
        msg.text = args.text as string | undefined;
        msg.blocks = args.blocks as unknown[] | undefined;
        msg.updates += 1;
        return { ok: true, channel: msg.channel, ts: msg.ts };
      }
      case "chat.postEphemeral": {
        const problem = messageProblem(args);
        if (problem) return { ok: false, error: "invalid_blocks", response_metadata: { messages: [problem] } };
        return { ok: true, message_ts: nextTs() };
      }
      case "views.open":
      case "views.push":
      case "views.update": {
        if (method !== "views.update" && !args.trigger_id) return { ok: false, error: "invalid_trigger_id" };
        const view = args.view as { blocks?: unknown[]; private_metadata?: string } | undefined;
        if (!view) return { ok: false, error: "invalid_arguments" };
        const problem = blocksProblem(view.blocks ?? [], 100) ??
          ((view.private_metadata ?? "").length > 3000 ? "private_metadata over 3000 characters" : undefined);
        if (problem) return { ok: false, error: "invalid_blocks", response_metadata: { messages: [problem] } };
        return { ok: true, view: { id: `V${++viewSeq}`, ...view } };
      }
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    token,
    calls,
    ok: (method) => calls.filter((c) => c.method === method && c.status === 200 && c.error === undefined),
    messages,
    replies: (channel, threadTs) => messages.filter((x) => x.channel === channel && x.threadTs === threadTs),
    refuseBlocks(method, error, times = 1, o = {}) {
      refusals.push({ method, error, times, ...o }); // botsec
    },
    setFractions(f) {
      if (f.rateLimitFraction !== undefined) rateLimitFraction = f.rateLimitFraction;
      if (f.serverErrorFraction !== undefined) serverErrorFraction = f.serverErrorFraction;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Slack's limits on a message (50 blocks) and on any block list; undefined when within them. */
function messageProblem(args: Record<string, unknown>): string | undefined {
  if (typeof args.text === "string" && args.text.length > 40_000) return "text over 40000 characters";
  if (args.blocks === undefined) return args.text ? undefined : "no text and no blocks";
  if (!Array.isArray(args.blocks)) return "blocks is not an array";
  return blocksProblem(args.blocks, 50);
}

function blocksProblem(blocks: unknown[], max: number): string | undefined {
  if (blocks.length > max) return `${blocks.length} blocks; at most ${max}`;
  for (const [i, b] of blocks.entries()) {
    const block = b as { type?: string; text?: { text?: string }; fields?: { text?: string }[]; elements?: { text?: string }[] };
    if (!block.type) return `block ${i} has no type`;
    if (block.type === "section") {
      if ((block.text?.text ?? "").length > 3000) return `block ${i}: section text over 3000 characters`;
      if ((block.fields ?? []).some((f) => (f.text ?? "").length > 2000)) return `block ${i}: field over 2000 characters`;
      if (!block.text && !block.fields) return `block ${i}: section without text`;
    }
    if (block.type === "header" && (block.text?.text ?? "").length > 150) return `block ${i}: header over 150 characters`;
    if (block.type === "context" && (block.elements ?? []).some((e) => (e.text ?? "").length > 3000))
      return `block ${i}: context text over 3000 characters`;
  }
  return undefined;
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes("application/json")) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = /^[[{]/.test(v) ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/**
 * Headers Slack sends with a request to an app: `x-slack-request-timestamp` and
 * `x-slack-signature` = `v0=` HMAC-SHA256(secret, `v0:{timestamp}:{body}`).
 */
export function signSlackRequest(signingSecret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex");
  return { "x-slack-request-timestamp": String(timestamp), "x-slack-signature": `v0=${sig}` };
}
