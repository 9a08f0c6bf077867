/**
 * The embedded local stack: dynalite (DynamoDB) and s3rver (S3) on loopback ports, with the
 * tables and the bucket created. Persisted under `.cody/` by default, in memory for tests.
 * Local programs share one stack run by a daemon (environment/stack-daemon.ts, `cody stack serve`).
 */
import type { Server } from "node:http";
import { mkdirSync, rmSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dynalite from "dynalite";
import S3rver from "s3rver";
import { loadConfig } from "../core/config/index.ts";
import { newDynamoClient, ensureTables } from "../core/jobs/index.ts";
import { ensureBucket } from "../core/jobs/index.ts";

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
  /** Called on every DynamoDB request (the daemon's idle timer). */
  onRequest?: () => void;
};

/** A running embedded stack (owned by this process) or a handle on one another process runs. */
export class EmbeddedStack {
  private constructor(
    readonly env: StackEnv,
    private readonly owned: { dynamo: Server; s3?: S3rver; tempDir?: string } | undefined,
  ) {}

  /** Starts dynalite and s3rver on free (or given) ports and creates the tables and bucket. */
  static async start(opts: StackOptions = {}): Promise<EmbeddedStack> {
    const config = loadConfig(opts.env ?? process.env);
    const tempDir = opts.inMemory ? mkdtempSync(join(tmpdir(), "cody-s3-")) : undefined;
    const dir = opts.dir ?? ".cody";
    if (!opts.inMemory) {
      mkdirSync(join(dir, "dynamodb"), { recursive: true });
      await probeLevelDb(join(dir, "dynamodb"));
    }
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(opts.inMemory ? {} : { path: join(dir, "dynamodb") }) });
    await new Promise<void>((resolve, reject) => {
      dynamo.once("error", reject);
      dynamo.listen(opts.dynamoPort ?? 0, "127.0.0.1", () => resolve());
    });
    if (opts.onRequest) dynamo.on("request", opts.onRequest);
    const dynamoPort = (dynamo.address() as { port: number }).port;
    const partial = new EmbeddedStack({} as StackEnv, { dynamo, ...(tempDir ? { tempDir } : {}) });
    const s3Dir = tempDir ?? join(dir, "s3");
    let s3: S3rver;
    let s3Port: number;
    try {
      mkdirSync(s3Dir, { recursive: true });
      s3 = new S3rver({ port: opts.s3Port ?? 0, address: "127.0.0.1", silent: true, directory: s3Dir });
      ({ port: s3Port } = await s3.run());
    } catch (err) {
      await partial.stop();
      throw err;
    }
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

  /** True when this process runs the servers (false when reusing another's). */
  get isOwner(): boolean {
    return this.owned !== undefined;
  }

  /** Stops the servers this process started. */
  async stop(): Promise<void> {
    if (!this.owned) return;
    const { dynamo, s3, tempDir } = this.owned;
    await s3?.close().catch(() => undefined);
    dynamo.closeAllConnections?.();
    await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

/**
 * Opens and closes the LevelDB dynalite will use, so a corrupt or locked database fails here
 * (LEVEL_CORRUPTION, LEVEL_LOCKED in the cause) rather than on some later request. `level` is
 * dynalite's own dependency, loaded from dynalite's place.
 */
async function probeLevelDb(path: string): Promise<void> {
  const { Level } = createRequire(createRequire(import.meta.url).resolve("dynalite"))("level") as {
    Level: new (p: string) => { open(): Promise<void>; close(): Promise<void> };
  };
  const db = new Level(path);
  await db.open();
  await db.close();
}
