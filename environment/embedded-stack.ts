/**
 * The embedded local stack: dynalite (DynamoDB) and s3rver (S3), with the tables and the bucket
 * created. Persisted under `.cody/` by default, in memory for tests. Local programs share one
 * stack run by a daemon (environment/stack-daemon.ts, `cody stack serve`).
 * The servers listen on unix sockets in a 0700 directory; the loopback ports are an
 * authenticating proxy (environment/stack-auth.ts) that forwards only requests signed with this
 * stack's random credentials (`env.CODY_STACK_ACCESS_KEY_ID`/`CODY_STACK_SECRET_ACCESS_KEY`), so a sandboxed
 * command that finds the ports reads and writes nothing.
 */
import type { Server } from "node:http";
import { chmodSync, mkdirSync, rmSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dynalite from "dynalite";
import S3rver from "s3rver";
import { loadConfig } from "../core/config/index.ts";
import { newDynamoClient, ensureTables } from "../core/jobs/index.ts";
import { ensureBucket } from "../core/jobs/index.ts";
import { newStackCredentials, startAuthProxy, type StackCredentials } from "./stack-auth.ts";

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
  /** What every request to this stack must be signed with (random per stack; config.localCredentials). */
  CODY_STACK_ACCESS_KEY_ID: string;
  CODY_STACK_SECRET_ACCESS_KEY: string;
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
  /** The credentials requests must be signed with (default: fresh random ones). */
  credentials?: StackCredentials;
};

/** A running embedded stack (owned by this process) or a handle on one another process runs. */
export class EmbeddedStack {
  private constructor(
    readonly env: StackEnv,
    private readonly owned: { dynamo: Server; s3?: S3rver; tempDir?: string; proxies: Server[]; socketDir: string } | undefined,
  ) {}

  /** Starts dynalite and s3rver on free (or given) ports and creates the tables and bucket. */
  static async start(opts: StackOptions = {}): Promise<EmbeddedStack> {
    const config = loadConfig(opts.env ?? process.env);
    const creds = opts.credentials ?? newStackCredentials();
    const tempDir = opts.inMemory ? mkdtempSync(join(tmpdir(), "cody-s3-")) : undefined;
    const dir = opts.dir ?? ".cody";
    if (!opts.inMemory) {
      // CODY_DIR and what is in it: its owner's only (sandboxed commands run as other uids).
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      mkdirSync(join(dir, "dynamodb"), { recursive: true, mode: 0o700 });
      await probeLevelDb(join(dir, "dynamodb"));
    }
    // Unix sockets (short paths: at most 107 bytes) in a directory only this user can enter.
    const socketDir = mkdtempSync(join(tmpdir(), "cody-stack-"));
    chmodSync(socketDir, 0o700);
    const dynamoSocket = join(socketDir, "dynamodb.sock");
    const s3Socket = join(socketDir, "s3.sock");
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(opts.inMemory ? {} : { path: join(dir, "dynamodb") }) });
    await new Promise<void>((resolve, reject) => {
      dynamo.once("error", reject);
      dynamo.listen(dynamoSocket, () => resolve());
    });
    const proxies: Server[] = [];
    const partial = new EmbeddedStack({} as StackEnv, { dynamo, proxies, socketDir, ...(tempDir ? { tempDir } : {}) });
    const s3Dir = tempDir ?? join(dir, "s3");
    let s3: S3rver;
    let dynamoPort: number;
    let s3Port: number;
    try {
      mkdirSync(s3Dir, { recursive: true, mode: 0o700 });
      s3 = new S3rver({ silent: true, directory: s3Dir });
      // s3rver checks header signatures itself against its accounts: it learns this stack's key.
      s3AccountRegistry().DUMMY_ACCOUNT.createKeyPair(creds.accessKeyId, creds.secretAccessKey);
      (s3 as unknown as { httpServer: Server }).httpServer = await (s3 as unknown as { listen(path: string): Promise<Server> }).listen(s3Socket);
      const dynamoProxy = await startAuthProxy({ socketPath: dynamoSocket, creds, bufferBody: true, ...(opts.dynamoPort ? { port: opts.dynamoPort } : {}), ...(opts.onRequest ? { onRequest: opts.onRequest } : {}) });
      proxies.push(dynamoProxy);
      const s3Proxy = await startAuthProxy({ socketPath: s3Socket, creds, bufferBody: false, ...(opts.s3Port ? { port: opts.s3Port } : {}) });
      proxies.push(s3Proxy);
      dynamoPort = (dynamoProxy.address() as { port: number }).port;
      s3Port = (s3Proxy.address() as { port: number }).port;
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
      CODY_STACK_ACCESS_KEY_ID: creds.accessKeyId,
      CODY_STACK_SECRET_ACCESS_KEY: creds.secretAccessKey,
    };
    const local = loadConfig({ ...(opts.env ?? process.env), ...env });
    const dynamoClient = newDynamoClient(local);
    await ensureTables(dynamoClient, local);
    dynamoClient.destroy();
    await ensureBucket(local);
    return new EmbeddedStack(env, { dynamo, s3, proxies, socketDir, ...(tempDir ? { tempDir } : {}) });
  }

  /** True when this process runs the servers (false when reusing another's). */
  get isOwner(): boolean {
    return this.owned !== undefined;
  }

  /** Stops the servers this process started. */
  async stop(): Promise<void> {
    if (!this.owned) return;
    const { dynamo, s3, tempDir, proxies, socketDir } = this.owned;
    for (const p of proxies) {
      p.closeAllConnections?.();
      await new Promise<void>((resolve) => p.close(() => resolve()));
    }
    await s3?.close().catch(() => undefined);
    dynamo.closeAllConnections?.();
    await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    rmSync(socketDir, { recursive: true, force: true });
  }
}

/** s3rver's account registry (its own module: the package's main file does not export it). */
function s3AccountRegistry(): { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } } {
  return createRequire(import.meta.url)("s3rver/lib/models/account.js") as ReturnType<typeof s3AccountRegistry>;
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
