/**
 * The data of Cody Batch: the two DynamoDB tables of DESIGN.md (built from core/jobs/store.ts's
 * `tableDefinitions`, so the stack and the code cannot disagree) and the artifacts bucket.
 */
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table/index.js";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket/index.js";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy/index.js";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js";
import { Construct } from "constructs";
import { tableDefinitions } from "../core/jobs/index.ts";
import { policyDocument } from "./policy.ts";
import { resourceName, type StackSettings } from "./settings.ts";

/** Days before artifacts (diffs, transcripts) and job rows expire. */
export const RETENTION_DAYS = 30;

export class Storage extends Construct {
  readonly jobsTable: DynamodbTable;
  readonly reposTable: DynamodbTable;
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, s: StackSettings, accountId: string) {
    super(scope, id);
    const [jobs, repos] = tableDefinitions({ jobsTable: s.jobsTableName, reposTable: s.reposTableName });
    this.jobsTable = table(this, "jobs", jobs!, s);
    this.reposTable = table(this, "repositories", repos!, s);

    // Bucket names are global: the account id keeps two accounts' `dev` apart.
    this.bucket = new S3Bucket(this, "artifacts", { bucket: `${resourceName(s, "artifacts")}-${accountId}`, forceDestroy: s.env === "dev" });
    new S3BucketPublicAccessBlock(this, "artifacts-public-access", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "artifacts-ownership", { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "artifacts-encryption", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    });
    new S3BucketLifecycleConfiguration(this, "artifacts-lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-artifacts",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days: RETENTION_DAYS }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
    new S3BucketPolicy(this, "artifacts-policy", {
      bucket: this.bucket.id,
      policy: policyDocument([
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: ["s3:*"],
          Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]),
    });
  }

  /** ARNs of both tables and their indexes, for IAM. */
  tableArns(): string[] {
    return [this.jobsTable.arn, `${this.jobsTable.arn}/index/*`, this.reposTable.arn, `${this.reposTable.arn}/index/*`];
  }
}

type TableDefinition = ReturnType<typeof tableDefinitions>[number];

function table(scope: Construct, id: string, def: TableDefinition, s: StackSettings): DynamodbTable {
  const key = (type: "HASH" | "RANGE", schema = def.KeySchema ?? []) => schema.find((k) => k.KeyType === type)?.AttributeName;
  return new DynamodbTable(scope, id, {
    name: def.TableName!,
    billingMode: "PAY_PER_REQUEST",
    hashKey: key("HASH"),
    ...(key("RANGE") ? { rangeKey: key("RANGE") } : {}),
    attribute: (def.AttributeDefinitions ?? []).map((a) => ({ name: a.AttributeName!, type: a.AttributeType! })),
    ...(def.GlobalSecondaryIndexes?.length
      ? {
          globalSecondaryIndex: def.GlobalSecondaryIndexes.map((g) => ({
            name: g.IndexName!,
            hashKey: key("HASH", g.KeySchema)!,
            ...(key("RANGE", g.KeySchema) ? { rangeKey: key("RANGE", g.KeySchema) } : {}),
            projectionType: g.Projection?.ProjectionType ?? "ALL",
          })),
        }
      : {}),
    ttl: { attributeName: "expiresAt", enabled: true },
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: { enabled: true },
    deletionProtectionEnabled: s.env === "prod",
  });
}
