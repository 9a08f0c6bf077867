/**
 * Artifacts in S3: diffs and Claude transcripts, and presigned GET links to them.
 */
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import type { Config } from "../config/index.ts";
import { AWS_HTTP_TIMEOUTS } from "./dynamo.ts";

// The S3 SDK is loaded on first use, not at import: the bot's cold start only needs it for links.
type S3Sdk = typeof import("@aws-sdk/client-s3");
type Presigner = typeof import("@aws-sdk/s3-request-presigner");
let sdk: Promise<{ s3: S3Sdk; presigner: Presigner }> | undefined;
const loadSdk = () => (sdk ??= Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/s3-request-presigner")]).then(([s3, presigner]) => ({ s3, presigner })));

/** The artifacts port. */
export type Artifacts = {
  /** Stores `body` under `key`; throws with a cause on failure. */
  put(key: string, body: string, contentType: string, signal?: AbortSignal): Promise<void>;
  /** Reads an object as text; undefined when it does not exist. */
  get(key: string, signal?: AbortSignal): Promise<string | undefined>;
  /** A presigned GET link to `key`, valid for `ttlSeconds` (default: the config's PRESIGN_TTL_SECONDS). */
  link(key: string, ttlSeconds?: number): Promise<string>;
};

/** S3 client options of a config (path-style and dummy credentials against a local endpoint). */
export function s3ClientOptions(config: Config): S3ClientConfig {
  const opts: S3ClientConfig = { region: config.region, maxAttempts: 5, requestHandler: AWS_HTTP_TIMEOUTS };
  if (config.s3Endpoint) {
    opts.endpoint = config.s3Endpoint;
    opts.forcePathStyle = true;
    opts.credentials = config.localCredentials ?? { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  }
  return opts;
}

/** Creates the artifacts adapter over S3 (the SDK and the client are made on first use). */
export function newArtifacts(config: Config, given?: S3Client): Artifacts {
  const Bucket = config.artifactsBucket;
  let made: Promise<{ s3: S3Sdk; presigner: Presigner; client: S3Client }> | undefined;
  const ready = () => (made ??= loadSdk().then((m) => ({ ...m, client: given ?? new m.s3.S3Client(s3ClientOptions(config)) })));
  return {
    async put(key, body, contentType, signal) {
      const { s3, client } = await ready();
      try {
        await client.send(new s3.PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: contentType }), signal ? { abortSignal: signal } : {});
      } catch (err) {
        throw new Error(`upload s3://${Bucket}/${key}`, { cause: err });
      }
    },
    async get(key, signal) {
      const { s3, client } = await ready();
      try {
        const r = await client.send(new s3.GetObjectCommand({ Bucket, Key: key }), signal ? { abortSignal: signal } : {});
        return await r.Body?.transformToString("utf8");
      } catch (err) {
        if ((err as { name?: string }).name === "NoSuchKey") return undefined;
        throw new Error(`download s3://${Bucket}/${key}`, { cause: err });
      }
    },
    async link(key, ttlSeconds) {
      const { s3, presigner, client } = await ready();
      return presigner.getSignedUrl(client, new s3.GetObjectCommand({ Bucket, Key: key }), { expiresIn: ttlSeconds ?? config.presignTtlSeconds });
    },
  } satisfies Artifacts;
}

/** Creates the config's bucket when missing (embedded stack and tests only). */
export async function ensureBucket(config: Config): Promise<void> {
  const { s3 } = await loadSdk();
  const client = new s3.S3Client(s3ClientOptions(config));
  try {
    await client.send(new s3.CreateBucketCommand({ Bucket: config.artifactsBucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw err;
  } finally {
    client.destroy();
  }
}
