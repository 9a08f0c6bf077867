/**
 * A git smart-HTTP server on 127.0.0.1:0 in front of `git http-backend` (the real protocol,
 * clone and push), serving the bare remotes under `root` as `/<owner>/<name>.git`. It demands
 * HTTP Basic credentials with a given password (a token, as GitHub takes them) and records every
 * Authorization header it receives, so tests can see what git sent.
 */
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeGitHttp = {
  url: string;
  /** Authorization headers received, in order ("" when a request had none). */
  authorizations: string[];
  /** Request paths received, in order (`/owner/name.git/info/refs` …): which repositories were fetched or pushed. */
  paths: string[];
  close(): Promise<void>;
};

/** Starts the server; only requests whose Basic password is `token` reach git. */
export async function startFakeGitHttp(root: string, token: string): Promise<FakeGitHttp> {
  const authorizations: string[] = [];
  const paths: string[] = [];
  const expected = `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const auth = req.headers.authorization ?? "";
    authorizations.push(auth);
    paths.push((req.url ?? "/").split("?")[0]!);
    if (auth !== expected) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="fake git"' });
      res.end("unauthorized\n");
      return;
    }
    const url = new URL(req.url ?? "/", "http://x");
    const cgi = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        REMOTE_USER: "x-access-token",
        REQUEST_METHOD: req.method ?? "GET",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
        GIT_CONFIG_NOSYSTEM: "1",
        HOME: root,
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const i = line.indexOf(":");
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.on("close", () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    authorizations,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
