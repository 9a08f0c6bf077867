/**
 * The stack's auth proxy binds a signature to the request's body: a signed DynamoDB request
 * (made by the real SDK) replayed with another body is refused, not forwarded. The signed
 * `x-amz-content-sha256` header only names the hash the signer used; the body actually sent is
 * what the proxy must hash (DynamoDB signs the payload itself, S3 streams are the exception).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newStackCredentials, startAuthProxy } from "./stack-auth.ts";

const creds = newStackCredentials();
let dir: string;
let upstream: Server;
let proxy: Server;
let port: number;
/** What reached the server behind the proxy: the raw headers and body of each forwarded request. */
const seen: { headers: Record<string, string>; body: string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cody-stack-auth-"));
  const socketPath = join(dir, "up.sock");
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end("{}");
    });
  });
  await new Promise<void>((r) => upstream.listen(socketPath, () => r()));
  proxy = await startAuthProxy({ socketPath, creds, bufferBody: true });
  port = (proxy.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await new Promise((r) => upstream?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `body` with `headers` (as captured) to the proxy; resolves with the status. */
function replay(headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { "content-length": _cl, connection: _c, ...rest } = headers;
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/", headers: { ...rest, "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the embedded stack's auth proxy", () => {
  it("forwards a request the real SDK signed with the stack's credentials, and refuses the same signature over another body", async () => {
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", credentials: creds, maxAttempts: 1 });
    await client.send(new PutItemCommand({ TableName: "jobs", Item: { jobId: { S: "j-mine" } } }));
    client.destroy();
    expect(seen).toHaveLength(1);
    const signed = seen[0]!;
    expect(signed.body).toContain("j-mine");

    // The captured request as it was: forwarded again (the proxy checks who signed, not freshness).
    expect(await replay(signed.headers, signed.body)).toBe(200);
    expect(seen).toHaveLength(2);

    // The same headers (signature and declared payload hash included) over another item: refused.
    // Same length: content-length is a signed header.
    const forged = signed.body.replace("j-mine", "j-evil");
    expect(await replay(signed.headers, forged)).toBe(403);
    expect(seen.map((s) => s.body)).not.toContain(forged);
  });
});
