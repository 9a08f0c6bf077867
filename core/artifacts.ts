/**
 * Artifacts in S3: diffs and Claude transcripts, and presigned GET links to them.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { Config } from "./config.ts";
import { AWS_HTTP_TIMEOUTS } from "./store.ts";

/** The artifacts port. */
export type Artifacts = {
  /** Stores `body` under `key`; throws with a cause on failure. */
  put(key: string, body: string, contentType: string, signal?: AbortSignal): Promise<void>;
  /** Reads an object as text; undefined when it does not exist. */
  get(key: string, signal?: AbortSignal): Promise<string | undefined>;
  /** A presigned GET link to `key`, valid for `ttlSeconds` (default: the config's PRESIGN_TTL_SECONDS). */
  link(key: string, ttlSeconds?: number): Promise<string>;
};

/** Builds the S3 client of a config (path-style and dummy credentials against a local endpoint). */
export function newS3Client(config: Config): S3Client {
  const opts: S3ClientConfig = { region: config.region, maxAttempts: 5, requestHandler: AWS_HTTP_TIMEOUTS };
  if (config.s3Endpoint) {
    opts.endpoint = config.s3Endpoint;
    opts.forcePathStyle = true;
    opts.credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  }
  return new S3Client(opts);
}

/** Creates the artifacts adapter over S3. */
export function newArtifacts(config: Config, client: S3Client = newS3Client(config)): Artifacts {
  const Bucket = config.artifactsBucket;
  return {
    async put(key, body, contentType, signal) {
      try {
        await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: contentType }), signal ? { abortSignal: signal } : {});
      } catch (err) {
        throw new Error(`upload s3://${Bucket}/${key}`, { cause: err });
      }
    },
    async get(key, signal) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket, Key: key }), signal ? { abortSignal: signal } : {});
        return await r.Body?.transformToString("utf8");
      } catch (err) {
        if ((err as { name?: string }).name === "NoSuchKey") return undefined;
        throw new Error(`download s3://${Bucket}/${key}`, { cause: err });
      }
    },
    async link(key, ttlSeconds) {
      return getSignedUrl(client, new GetObjectCommand({ Bucket, Key: key }), { expiresIn: ttlSeconds ?? config.presignTtlSeconds });
    },
  } satisfies Artifacts;
}

/** Creates the bucket when missing (embedded stack and tests only). */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw err;
  }
}
