/**
 * The job page as routes of a node HTTP server: Bolt's HTTPReceiver `customRoutes` (the bot's
 * local server, Socket Mode's port) and the plain server of `cody web`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CustomRoute } from "@slack/bolt/dist/receivers/custom-routes.js";
import { servePage, type PageDeps, type PageResponse } from "./serve-page.ts";

/** Answers one request for `/jobs/…` (GET and HEAD; others 405). */
export function handlePageRequest(deps: PageDeps, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? "" : url.slice(q + 1);
  if (req.method !== "GET" && req.method !== "HEAD") return write(res, req, { status: 405, headers: { "content-type": "text/plain; charset=utf-8", allow: "GET, HEAD" }, body: "method not allowed\n" });
  if (!path.startsWith("/jobs/")) return write(res, req, { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "not found\n" });
  void servePage(deps, path.slice("/jobs/".length), query).then((r) => write(res, req, r));
}

function write(res: ServerResponse, req: IncomingMessage, r: PageResponse): void {
  res.writeHead(r.status, { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) });
  res.end(req.method === "HEAD" ? undefined : r.body);
}

/** The custom routes of the page: `/jobs/:token` and `/jobs/assets/:file`. */
export function pageRoutes(deps: PageDeps): CustomRoute[] {
  const handler = (req: IncomingMessage, res: ServerResponse) => handlePageRequest(deps, req, res);
  return [
    { path: "/jobs/assets/:file", method: ["GET", "HEAD"], handler },
    { path: "/jobs/:token", method: ["GET", "HEAD"], handler },
  ];
}
