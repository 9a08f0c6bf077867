/**
 * An in-process fake of AWS Secrets Manager (JSON 1.1 protocol: `POST /` with
 * `X-Amz-Target: secretsmanager.<Operation>`), serving only GetSecretValue. Any other operation
 * or route answers 501 naming it. Secrets are looked up by ARN or name.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeSecretsManager = {
  /** Endpoint for the SDK client (`http://127.0.0.1:<port>`). */
  url: string;
  /** Every request: operation and parsed body. */
  requests: { operation: string; body: Record<string, unknown> }[];
  /** Secret values by ARN (or name); tests may change them between calls. */
  secrets: Map<string, string>;
  close(): Promise<void>;
};

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeSecretsManager(secrets: Record<string, string> = {}): Promise<FakeSecretsManager> {
  const values = new Map(Object.entries(secrets));
  const requests: FakeSecretsManager["requests"] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(body));
      };
      const target = String(req.headers["x-amz-target"] ?? "");
      const operation = target.replace(/^secretsmanager\./, "");
      if (req.method !== "POST" || req.url !== "/" || !target.startsWith("secretsmanager.") || operation !== "GetSecretValue") {
        return send(501, { __type: "NotImplemented", message: `fake secrets manager: ${req.method} ${req.url} ${target} not implemented` });
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
      requests.push({ operation, body });
      const id = String(body.SecretId ?? "");
      const value = values.get(id);
      if (value === undefined) {
        return send(400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." });
      }
      send(200, { ARN: id, Name: id.split(":").pop(), SecretString: value, VersionId: "v1", VersionStages: ["AWSCURRENT"], CreatedDate: 1 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    secrets: values,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
