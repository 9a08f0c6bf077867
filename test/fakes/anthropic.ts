/**
 * An in-process fake of the Anthropic Messages API on 127.0.0.1:0: `POST /v1/messages` (JSON,
 * non-streaming) answered from a script of replies, every request recorded (body and headers).
 * Scope judge requests (`tool_choice` forcing the `verdict` tool, issue 19) are answered from a
 * separate script, by default an approval with zero usage, so agent scripts need not know about
 * the judge. Any other route answers 501 naming it, so a new call cannot pass unnoticed.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as received. */
export type RecordedRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: any };

/** What the fake answers: an HTTP status (default 200), extra headers and a JSON body. */
export type FakeReply = { status?: number; headers?: Record<string, string>; body: unknown };

/** A scripted step: a reply, or a function of the request (and the requests so far) returning one (or a promise of one, to delay it). */
export type FakeStep = FakeReply | ((req: RecordedRequest, all: RecordedRequest[]) => FakeReply | Promise<FakeReply>);

export type FakeAnthropic = {
  /** Base URL for the SDK's `baseURL`. */
  url: string;
  /** Every request received, in order (the 501s included). */
  requests: RecordedRequest[];
  /** The agent's requests to POST /v1/messages (judge requests left out). */
  messageRequests(): RecordedRequest[];
  /** The scope judge's requests (tool_choice forcing `verdict`), in order. */
  judgeRequests(): RecordedRequest[];
  close(): Promise<void>;
};

/**
 * Starts the fake. `script` is a queue consumed one step per `POST /v1/messages`, or a single
 * function answering every request. When the queue runs out the fake answers 500 with an
 * `api_error` saying so, which fails the test visibly.
 */
export async function startFakeAnthropic(
  script: FakeStep[] | ((req: RecordedRequest, all: RecordedRequest[]) => FakeReply | Promise<FakeReply>),
  opts: { /** The judge's answers: a queue (then the default again) or one function; default: approve. */ judge?: FakeStep[] | ((req: RecordedRequest, all: RecordedRequest[]) => FakeReply | Promise<FakeReply>) } = {},
): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];
  const queue = Array.isArray(script) ? [...script] : undefined;
  const judgeQueue = Array.isArray(opts.judge) ? [...opts.judge] : undefined;
  let id = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown = raw;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        // keep the raw text
      }
      const path = (req.url ?? "/").split("?")[0]!;
      const recorded: RecordedRequest = { method: req.method ?? "GET", path, headers: req.headers, body };
      requests.push(recorded);
      const send = (r: FakeReply) => {
        res.writeHead(r.status ?? 200, { "content-type": "application/json", "request-id": `req_fake_${++id}`, ...r.headers });
        res.end(JSON.stringify(r.body));
      };
      if (recorded.method !== "POST" || path !== "/v1/messages") {
        return send(apiError(501, "not_found_error", `fake Anthropic does not serve ${recorded.method} ${path}`));
      }
      let step: FakeStep | undefined;
      if (isJudgeRequest(recorded)) {
        const allJudge = requests.filter(isJudgeRequest);
        step = judgeQueue?.shift() ?? (typeof opts.judge === "function" ? opts.judge : verdict("approve", "The change does what the instructions ask.", { usage: ZERO_USAGE }));
        return void Promise.resolve()
          .then(() => (typeof step === "function" ? step(recorded, allJudge) : step!))
          .then(send, (err: unknown) => send(apiError(500, "api_error", `fake Anthropic judge script threw: ${String(err)}`)));
      }
      const all = requests.filter((r) => r.method === "POST" && r.path === "/v1/messages" && !isJudgeRequest(r));
      if (queue) step = queue.shift();
      else step = script as FakeStep;
      if (step === undefined) return send(apiError(500, "api_error", "fake Anthropic: no scripted reply left"));
      void Promise.resolve()
        .then(() => (typeof step === "function" ? step(recorded, all) : step!))
        .then(send, (err: unknown) => send(apiError(500, "api_error", `fake Anthropic script threw: ${String(err)}`)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messageRequests: () => requests.filter((r) => r.method === "POST" && r.path === "/v1/messages" && !isJudgeRequest(r)),
    judgeRequests: () => requests.filter(isJudgeRequest),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Usage of a reply; every count defaults to a small number so cost and totals are non-zero. */
export type FakeUsage = { input_tokens?: number; output_tokens?: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number };

let toolIds = 0;

/** A content block calling a tool. */
export function toolUse(name: string, input: Record<string, unknown>, id = `toolu_fake_${++toolIds}`) {
  return { type: "tool_use", id, name, input };
}

/** A text content block. */
export function text(t: string) {
  return { type: "text", text: t };
}

/** A 200 reply carrying an assistant message. `stop_reason` defaults to tool_use when a tool is called, else end_turn. */
export function message(content: unknown[], opts: { stop_reason?: string; usage?: FakeUsage; model?: string } = {}): FakeReply {
  const hasTool = content.some((b) => (b as { type?: string }).type === "tool_use");
  return {
    body: {
      id: `msg_fake_${++toolIds}`,
      type: "message",
      role: "assistant",
      model: opts.model ?? "claude-sonnet-5-5",
      content,
      stop_reason: opts.stop_reason ?? (hasTool ? "tool_use" : "end_turn"),
      stop_sequence: null,
      usage: {
        input_tokens: 100,
        output_tokens: 50,
        cache_read_input_tokens: 1000,
        cache_creation_input_tokens: 200,
        ...opts.usage,
      },
    },
  };
}

/** An error reply in the API's shape. */
export function apiError(status: number, type: string, msg: string, headers: Record<string, string> = {}): FakeReply {
  return { status, headers, body: { type: "error", error: { type, message: msg } } };
}

/** 429 rate_limit_error with `retry-after` seconds. */
export function rateLimited(retryAfterSeconds: number, msg = "Number of request tokens has exceeded your per-minute rate limit"): FakeReply {
  return apiError(429, "rate_limit_error", msg, { "retry-after": String(retryAfterSeconds) });
}

/** 529 overloaded_error. */
export function overloaded(): FakeReply {
  return apiError(529, "overloaded_error", "Overloaded");
}

/** True for a scope judge request: POST /v1/messages whose tool_choice forces the `verdict` tool. */
export function isJudgeRequest(r: RecordedRequest): boolean {
  return r.method === "POST" && r.path === "/v1/messages" && r.body?.tool_choice?.type === "tool" && r.body?.tool_choice?.name === "verdict";
}

/** Usage of zero tokens (the default judge's approvals cost nothing, so agent-only totals stay exact). */
export const ZERO_USAGE: FakeUsage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

/** A judge's answer: a `verdict` tool call with `{ decision, reason }` (stop reason tool_use). */
export function verdict(decision: "approve" | "veto", reason: string, opts: { usage?: FakeUsage } = {}): FakeReply {
  return message([toolUse("verdict", { decision, reason })], { stop_reason: "tool_use", ...(opts.usage ? { usage: opts.usage } : {}) });
}
