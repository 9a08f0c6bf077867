/**
 * The embedded stack answers only its owner (issue 18). dynalite and s3rver listen on unix
 * sockets in a 0700 directory of the stack's (no other user can connect to them); what listens
 * on loopback is this proxy, which forwards a request only when it carries an AWS Signature
 * Version 4 made with the stack's own credentials — random per stack, kept in `stack.json`
 * (0600 in the 0700 CODY_DIR) and in the environment of the programs that use the stack, never
 * in a sandboxed command's. Everything else gets 403 and reaches nothing: a script that finds
 * the ports in /proc/net/tcp and calls them with public or guessed credentials (`local`,
 * `S3RVER`, AWS's documented example keys) learns only that something listens.
 *
 * Both forms are checked: the Authorization header (every SDK call) and the query string of a
 * presigned URL (links to diffs; expiry checked too, which s3rver itself does not do).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** The credentials every request to the stack must be signed with. */
export type StackCredentials = { accessKeyId: string; secretAccessKey: string };

/** Fresh random credentials for one stack (never the documented or well-known dummy keys). */
export function newStackCredentials(): StackCredentials {
  return { accessKeyId: `CODYSTACK${randomBytes(8).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(30).toString("base64url") };
}

/** A request as the proxy sees it. `rawHeaders` as node gives them (name, value, name, value …). */
export type SignedRequest = { method: string; url: string; rawHeaders: readonly string[] };

/** Whether `req` (with `body`, needed when no x-amz-content-sha256 header is signed) is signed with `creds`. */
export function verifySignature(req: SignedRequest, body: Buffer | undefined, creds: StackCredentials, now = new Date()): { ok: true } | { ok: false; reason: string } {
  const q = req.url.indexOf("?");
  const path = q >= 0 ? req.url.slice(0, q) : req.url;
  const query = parseQuery(q >= 0 ? req.url.slice(q + 1) : "");
  const headers = headerMap(req.rawHeaders);
  let credential: string, signedHeaders: string, signature: string, amzDate: string, payloadHash: string;
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(auth.trim());
    if (!m) return { ok: false, reason: "not an AWS4-HMAC-SHA256 authorization" };
    [, credential = "", signedHeaders = "", signature = ""] = m;
    amzDate = headers.get("x-amz-date") ?? "";
    const declared = headers.get("x-amz-content-sha256");
    if (declared) payloadHash = declared;
    else if (body) payloadHash = createHash("sha256").update(body).digest("hex");
    else return { ok: false, reason: "no payload hash" };
  } else if (first(query, "X-Amz-Algorithm") === "AWS4-HMAC-SHA256") {
    credential = first(query, "X-Amz-Credential") ?? "";
    signedHeaders = first(query, "X-Amz-SignedHeaders") ?? "";
    signature = first(query, "X-Amz-Signature") ?? "";
    amzDate = first(query, "X-Amz-Date") ?? "";
    payloadHash = first(query, "X-Amz-Content-Sha256") ?? "UNSIGNED-PAYLOAD";
    const expires = Number(first(query, "X-Amz-Expires") ?? "0");
    const signedAt = parseAmzDate(amzDate);
    if (!signedAt || !(expires > 0) || now.getTime() > signedAt.getTime() + expires * 1000) return { ok: false, reason: "presigned URL expired" };
  } else {
    return { ok: false, reason: "unsigned request" };
  }
  const scope = credential.split("/");
  if (scope.length !== 5 || scope[4] !== "aws4_request") return { ok: false, reason: "malformed credential scope" };
  const [akid, day, region, service] = scope as [string, string, string, string];
  if (!safeEqual(akid, creds.accessKeyId)) return { ok: false, reason: "unknown access key" };
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(day)) return { ok: false, reason: "bad signing date" };
  const names = signedHeaders.split(";");
  if (!names.includes("host")) return { ok: false, reason: "host not signed" };
  const canonicalHeaders = names.map((n) => `${n}:${(headers.get(n) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalQuery = query
    .filter(([k]) => k !== "X-Amz-Signature")
    .map(([k, v]) => [escapeUri(k), escapeUri(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  // S3 signs the path as sent; other services sign it escaped once more.
  const canonicalPath = service === "s3" ? path : path.split("/").map((s) => escapeUri(s)).join("/");
  const canonical = [req.method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", amzDate, `${day}/${region}/${service}/aws4_request`, createHash("sha256").update(canonical).digest("hex")].join("\n");
  let key: Buffer = createHmac("sha256", `AWS4${creds.secretAccessKey}`).update(day).digest();
  for (const part of [region, service, "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  const expected = createHmac("sha256", key).update(toSign).digest("hex");
  return safeEqual(expected, signature) ? { ok: true } : { ok: false, reason: "signature does not match" };
}

/**
 * Listens on `port` (0: any) of 127.0.0.1 and forwards every request signed with `creds` to the
 * HTTP server on the unix socket `socketPath`; answers 403 to anything else. `bufferBody`: read
 * the whole body before checking (DynamoDB signs the body's hash without sending it); otherwise
 * the signed x-amz-content-sha256 header stands for it and the body streams through (S3).
 */
export async function startAuthProxy(opts: {
  socketPath: string;
  port?: number;
  creds: StackCredentials;
  bufferBody: boolean;
  onRequest?: () => void;
}): Promise<Server> {
  const agent = new Agent({ keepAlive: true });
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined) => {
    const up = request({ socketPath: opts.socketPath, agent, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    if (body) up.end(body);
    else req.pipe(up);
  };
  const deny = (res: ServerResponse, reason: string) => {
    res.writeHead(403, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ __type: "com.amazonaws#AccessDeniedException", message: `the embedded stack answers only its owner: ${reason}` }));
  };
  const server = createServer((req, res) => {
    opts.onRequest?.();
    const signed = { method: req.method ?? "GET", url: req.url ?? "/", rawHeaders: req.rawHeaders };
    if (!opts.bufferBody) {
      const v = verifySignature(signed, undefined, opts.creds);
      if (!v.ok) {
        req.resume();
        return deny(res, v.reason);
      }
      return forward(req, res, undefined);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      // DynamoDB requests are at most a few MB (items ≤ 400 KB, batches ≤ 25 items).
      if (size > 32 * 1024 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const v = verifySignature(signed, body, opts.creds);
      if (!v.ok) return deny(res, v.reason);
      forward(req, res, body);
    });
  });
  server.on("close", () => agent.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  return server;
}

/** RFC 3986 escaping as SigV4 wants it. */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseQuery(q: string): [string, string][] {
  if (!q) return [];
  return q.split("&").filter(Boolean).map((part) => {
    const eq = part.indexOf("=");
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    return eq >= 0 ? [dec(part.slice(0, eq)), dec(part.slice(eq + 1))] : [dec(part), ""];
  });
}

function first(query: readonly [string, string][], name: string): string | undefined {
  return query.find(([k]) => k === name)?.[1];
}

function headerMap(raw: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    m.set(name, m.has(name) ? `${m.get(name)},${value}` : value);
  }
  return m;
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
