/**
 * `cody web JOB_ID [--port N]`: the URL of a job's web page (bot/web/). With BOT_PUBLIC_URL (a
 * deployed bot, or `make dev` with one) it prints that URL and exits. Otherwise it serves the
 * page itself on 127.0.0.1 (default port 8787, CODY_WEB_PORT) from the configured store until
 * Ctrl-C, printing the URL first. `cody status` prints the same URL on its last line.
 * Without LINK_SIGNING_SECRET/SLACK_SIGNING_SECRET, local pages are signed with a random key
 * kept in `<CODY_DIR>/web-secret` (mode 0600), so `cody status` and `cody web` agree.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Config } from "../core/config/index.ts";
import type { Job, RepoRow } from "../core/jobs/index.ts";
import { handlePageRequest } from "../bot/web/page-routes.ts";
import { derivePageKey, pageUrl } from "../bot/web/page-token.ts";
import type { PageDeps } from "../bot/web/serve-page.ts";
import type { CliEnvironment } from "../environment/index.ts";

/** The port `cody web` serves on by default. */
export const DEFAULT_WEB_PORT = 8787;

/** The page key of the CLI: from the signing secret, else the local key file (created on first use). */
export function cliPageKey(config: Pick<Config, "linkSecret">, env: NodeJS.ProcessEnv): Buffer {
  if (config.linkSecret) return derivePageKey(config.linkSecret);
  const dir = resolve(env.CODY_DIR ?? ".cody");
  const file = join(dir, "web-secret");
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
    chmodSync(file, 0o600);
  }
  return derivePageKey(readFileSync(file, "utf8").trim());
}

/** The base URL pages are reached under: BOT_PUBLIC_URL, else `cody web`'s local address. */
export function pageBase(config: Pick<Config, "botPublicUrl">, env: NodeJS.ProcessEnv, port?: number): string {
  return config.botPublicUrl ?? `http://127.0.0.1:${port ?? webPort(env)}`;
}

function webPort(env: NodeJS.ProcessEnv): number {
  const n = Number(env.CODY_WEB_PORT ?? DEFAULT_WEB_PORT);
  return Number.isInteger(n) && n >= 0 && n < 65536 ? n : DEFAULT_WEB_PORT;
}

/** `page: <url>`, the last line of `cody status`. */
export function pageLine(world: Pick<CliEnvironment, "config" | "env">, job: Pick<Job, "jobId" | "expiresAt">): string {
  const url = pageUrl(pageBase(world.config, world.env), cliPageKey(world.config, world.env), job);
  return `page: ${url}${world.config.botPublicUrl ? "" : `   (served by: cody web ${job.jobId})`}`;
}

/** `cody status`'s table (scripts/cli-display.ts) followed by the {@link pageLine}. */
export async function printStatus(world: CliEnvironment, job: Job, rows: RepoRow[], opts: { wide?: boolean } = {}): Promise<void> {
  await (await import("./cli-display.ts")).printFinalTable(world, job, rows, opts);
  process.stdout.write(`${pageLine(world, job)}\n`);
}

/** A local HTTP server of the job pages on 127.0.0.1 (`port` 0: any free port). */
export async function startPageServer(deps: PageDeps, port: number): Promise<{ server: Server; base: string; close(): Promise<void> }> {
  const server = createServer((req, res) => handlePageRequest(deps, req, res));
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok());
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** `cody web JOB_ID [--port N]`; `bad(message)` builds the CLI's usage error (exit 2). */
export async function webCommand(args: string[], env: NodeJS.ProcessEnv, open: (env: NodeJS.ProcessEnv) => Promise<CliEnvironment>, bad: (m: string) => Error): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { port: { type: "string" } }, allowPositionals: true, strict: true });
  const jobId = positionals[0];
  if (!jobId || positionals.length > 1) throw bad("web needs one job id: cody web JOB_ID [--port N]");
  const port = values.port === undefined ? webPort(env) : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw bad(`--port takes a port number, got "${values.port}"`);
  const world = await open(env);
  let closeServer: (() => Promise<void>) | undefined;
  try {
    const job = await world.store.getJob(jobId);
    if (!job) throw bad(`no job ${jobId}`);
    const key = cliPageKey(world.config, world.env);
    if (world.config.botPublicUrl) {
      process.stdout.write(`${pageUrl(world.config.botPublicUrl, key, job)}\n`);
      return 0;
    }
    const { secretValues } = await import("../core/config/index.ts");
    const served = await startPageServer({ pageKey: key, store: world.store, artifacts: world.artifacts, secrets: secretValues(world.config), log: world.log }, port);
    closeServer = served.close;
    process.stdout.write(`${pageUrl(served.base, key, job)}\n`);
    process.stderr.write(`cody: serving the page of ${jobId} on ${served.base} until Ctrl-C\n`);
    // The embedded stack's daemon stops when idle (at once after `make run`): a cheap read every
    // few seconds keeps it up while the page is served.
    const keepAlive = world.stack ? setInterval(() => void world.store.getJob(jobId).catch(() => undefined), 2000) : undefined;
    await new Promise<void>((ok) => {
      process.once("SIGINT", ok);
      process.once("SIGTERM", ok);
    });
    clearInterval(keepAlive);
    return 0;
  } catch (err) {
    if ((err as { code?: string }).code === "EADDRINUSE") throw bad(`port ${port} is in use: give another with --port N (or CODY_WEB_PORT)`);
    throw err;
  } finally {
    await closeServer?.();
    await world.close();
  }
}
