/**
 * DynamoDB plumbing of the store: the client with its timeouts, a conditional update, a paged
 * query, and the two tables' definitions (for the embedded stack, tests and Terraform).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput, type UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import type { Config } from "../config/index.ts";
import { sleep } from "../runtime/index.ts";

/** The jobs table's index by status and creation time (the watchdog's and `cody list`'s query). */
export const JOBS_STATUS_INDEX = "status-createdAt-index";

/** Every AWS SDK client gets these: a stalled connection fails (and is retried) instead of hanging. */
export const AWS_HTTP_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 30_000 } as const;

/** Counts requests per client, for tests and benchmarks. */
export type RequestCounter = { count: number };

/** Builds the DynamoDB client of a config (endpoint override and dummy credentials locally). */
export function newDynamoClient(config: Config, counter?: RequestCounter): DynamoDBClient {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint
      ? { endpoint: config.dynamodbEndpoint, credentials: config.localCredentials ?? { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    maxAttempts: 5,
    requestHandler: AWS_HTTP_TIMEOUTS,
  });
  if (counter) {
    client.middlewareStack.add(
      (next) => async (args) => {
        counter.count += 1;
        return next(args);
      },
      { step: "finalizeRequest", name: "codyRequestCounter" },
    );
  }
  return client;
}

/**
 * Sends a conditional update: undefined when its condition failed, else the item as
 * `returnValues` asks for it ({} without). Other failures throw with `what` and the cause.
 */
export async function conditionalUpdate(
  doc: DynamoDBDocumentClient,
  input: UpdateCommandInput,
  what: string,
  signal?: AbortSignal,
  returnValues?: "ALL_NEW",
): Promise<Record<string, unknown> | undefined> {
  try {
    const r = await doc.send(new UpdateCommand({ ...input, ...(returnValues ? { ReturnValues: returnValues } : {}) }), signal ? { abortSignal: signal } : {});
    return r.Attributes ?? {};
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw new Error(what, { cause: err });
  }
}

/**
 * Every item of a query, following LastEvaluatedKey page by page (stopping once `limit` items
 * are in, when given).
 */
export async function queryAll<T>(doc: DynamoDBDocumentClient, input: QueryCommandInput, signal?: AbortSignal, limit = Infinity): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }), signal ? { abortSignal: signal } : {});
    items.push(...((r.Items ?? []) as T[]));
    start = items.length < limit ? r.LastEvaluatedKey : undefined;
  } while (start);
  return items;
}

/** True when a conditional write was refused because its condition did not hold. */
export function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === "ConditionalCheckFailedException";
}

/** The two tables exactly as DESIGN.md describes them (keys, GSIs), for the embedded stack and tests. */
export function tableDefinitions(config: Pick<Config, "jobsTable" | "reposTable">): CreateTableCommandInput[] {
  return [
    {
      TableName: config.jobsTable,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "jobId", AttributeType: "S" },
        { AttributeName: "status", AttributeType: "S" },
        { AttributeName: "createdAt", AttributeType: "S" },
      ],
      KeySchema: [{ AttributeName: "jobId", KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: JOBS_STATUS_INDEX,
          KeySchema: [
            { AttributeName: "status", KeyType: "HASH" },
            { AttributeName: "createdAt", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    },
    {
      TableName: config.reposTable,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "jobId", AttributeType: "S" },
        { AttributeName: "repositoryName", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "jobId", KeyType: "HASH" },
        { AttributeName: "repositoryName", KeyType: "RANGE" },
      ],
      // No status GSI (DESIGN.md listed one): nothing queries repositories by status, and every
      // heartbeat write would be written twice.
    },
  ];
}

/** Creates the tables when missing and waits until they are active; turns TTL on where supported. */
export async function ensureTables(client: DynamoDBClient, config: Pick<Config, "jobsTable" | "reposTable">): Promise<void> {
  for (const def of tableDefinitions(config)) {
    try {
      await client.send(new CreateTableCommand(def));
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    for (let i = 0; i < 100; i++) {
      const d = await client.send(new DescribeTableCommand({ TableName: def.TableName }));
      if (d.Table?.TableStatus === "ACTIVE") break;
      await sleep(50);
    }
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: def.TableName,
          TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
        }),
      );
    } catch {
      // dynalite does not implement UpdateTimeToLive; reads filter expired items anyway.
    }
  }
}
