/**
 * The embedded local stack: dynalite (DynamoDB) and s3rver (S3) on loopback ports, with the
 * tables and the bucket created. Persisted under `.cody/` by default, in memory for tests.
 * Several programs share one stack: the first writes `.cody/stack.json` and the others reuse it.
 */
import type { Server } from "node:http";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dynalite from "dynalite";
import S3rver from "s3rver";
import { loadConfig } from "../core/config.ts";
import { newDynamoClient, ensureTables } from "../core/store.ts";
import { ensureBucket } from "../core/artifacts.ts";

/** Variables that point every program at the stack. */
export type StackEnv = {
  DYNAMODB_ENDPOINT: string;
  S3_ENDPOINT: string;
  DYNAMODB_JOBS_TABLE: string;
  DYNAMODB_REPOSITORIES_TABLE: string;
  ARTIFACTS_BUCKET: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
};

export type StackOptions = {
  /** Where data lives (`<dir>/dynamodb`, `<dir>/s3`); ignored with `inMemory`. */
  dir?: string;
  /** Keep DynamoDB in memory and S3 in a temporary directory, removed on stop. */
  inMemory?: boolean;
  dynamoPort?: number;
  s3Port?: number;
  /** Table and bucket names (defaults: the config's local defaults). */
  env?: NodeJS.ProcessEnv;
};

/** A running embedded stack (owned by this process) or a handle on one another process runs. */
export class EmbeddedStack {
  private constructor(
    readonly env: StackEnv,
    private readonly owned: { dynamo: Server; s3: S3rver; stateFile?: string; tempDir?: string } | undefined,
  ) {}

  /** Starts dynalite and s3rver on free (or given) ports and creates the tables and bucket. */
  static async start(opts: StackOptions = {}): Promise<EmbeddedStack> {
    const config = loadConfig(opts.env ?? process.env);
    const tempDir = opts.inMemory ? mkdtempSync(join(tmpdir(), "cody-s3-")) : undefined;
    const dir = opts.dir ?? ".cody";
    if (!opts.inMemory) mkdirSync(join(dir, "dynamodb"), { recursive: true });
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(opts.inMemory ? {} : { path: join(dir, "dynamodb") }) });
    await new Promise<void>((resolve, reject) => {
      dynamo.once("error", reject);
      dynamo.listen(opts.dynamoPort ?? 0, "127.0.0.1", () => resolve());
    });
    const dynamoPort = (dynamo.address() as { port: number }).port;
    const s3Dir = tempDir ?? join(dir, "s3");
    mkdirSync(s3Dir, { recursive: true });
    const s3 = new S3rver({ port: opts.s3Port ?? 0, address: "127.0.0.1", silent: true, directory: s3Dir });
    const { port: s3Port } = await s3.run();
    const env: StackEnv = {
      DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoPort}`,
      S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      DYNAMODB_JOBS_TABLE: config.jobsTable,
      DYNAMODB_REPOSITORIES_TABLE: config.reposTable,
      ARTIFACTS_BUCKET: config.artifactsBucket,
      AWS_REGION: config.region,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    };
    const local = loadConfig({ ...(opts.env ?? process.env), ...env });
    const dynamoClient = newDynamoClient(local);
    await ensureTables(dynamoClient, local);
    dynamoClient.destroy();
    await ensureBucket(local);
    return new EmbeddedStack(env, { dynamo, s3, ...(tempDir ? { tempDir } : {}) });
  }

  /**
   * Reuses the stack another live process announced in `<dir>/stack.json`, or starts one here
   * and announces it. The returned stack stops (and un-announces) only what it started.
   */
  static async shared(opts: StackOptions = {}): Promise<EmbeddedStack> {
    const dir = opts.dir ?? ".cody";
    const stateFile = join(dir, "stack.json");
    if (existsSync(stateFile)) {
      try {
        const state = JSON.parse(readFileSync(stateFile, "utf8")) as { pid: number; env: StackEnv };
        if (isAlive(state.pid) && (await answers(state.env.DYNAMODB_ENDPOINT))) return new EmbeddedStack(state.env, undefined);
      } catch {
        // a stale or torn file: start afresh
      }
    }
    const stack = await EmbeddedStack.start({ ...opts, dir });
    writeFileSync(stateFile, JSON.stringify({ pid: process.pid, env: stack.env }, null, 2));
    stack.owned!.stateFile = stateFile;
    return stack;
  }

  /** True when this process runs the servers (false when reusing another's). */
  get isOwner(): boolean {
    return this.owned !== undefined;
  }

  /** Stops the servers this process started. */
  async stop(): Promise<void> {
    if (!this.owned) return;
    const { dynamo, s3, stateFile, tempDir } = this.owned;
    if (stateFile) rmSync(stateFile, { force: true });
    await s3.close().catch(() => undefined);
    dynamo.closeAllConnections?.();
    await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const r = await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
    return r.status > 0;
  } catch {
    return false;
  }
}
