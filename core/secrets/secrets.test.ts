import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterEach, beforeEach, expect, it } from "vitest";
import { startFakeSecretsManager, type FakeSecretsManager } from "../../test/fakes/secrets-manager.ts";
import { clearSecretsCache, forgetSecrets, resolveSecrets } from "./secrets.ts";

const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:cody-batch-dev-${name}-AbCdEf`;

let fake: FakeSecretsManager;
let client: SecretsManagerClient;
beforeEach(async () => {
  clearSecretsCache();
  fake = await startFakeSecretsManager({
    [arn("slack-bot-token")]: "xoxb-from-secrets-manager",
    [arn("slack-signing-secret")]: "signing-from-secrets-manager",
    [arn("github-token")]: "ghp_from_secrets_manager",
    [arn("anthropic-api-key")]: "sk-ant-from-secrets-manager",
    [arn("empty")]: "  ",
  });
  client = new SecretsManagerClient({
    endpoint: fake.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
    maxAttempts: 1,
  });
});
afterEach(async () => {
  await fake.close();
});

it.for([
  {
    name: "fills each variable from its secret",
    env: { SLACK_BOT_TOKEN_SECRET_ARN: arn("slack-bot-token"), GITHUB_TOKEN_SECRET_ARN: arn("github-token"), OTHER: "x" },
    want: { SLACK_BOT_TOKEN: "xoxb-from-secrets-manager", GITHUB_TOKEN: "ghp_from_secrets_manager", OTHER: "x" },
    fetched: [arn("slack-bot-token"), arn("github-token")],
  },
  {
    name: "keeps a value already in the environment and fetches nothing for it",
    env: { ANTHROPIC_API_KEY: "sk-local", ANTHROPIC_API_KEY_SECRET_ARN: arn("anthropic-api-key") },
    want: { ANTHROPIC_API_KEY: "sk-local" },
    fetched: [],
  },
  {
    name: "ignores variables that are not secrets",
    env: { DYNAMODB_JOBS_TABLE_SECRET_ARN: arn("github-token") },
    want: {},
    fetched: [],
  },
])("$name", async (tc) => {
  const env: NodeJS.ProcessEnv = { ...tc.env };
  const got = await resolveSecrets(env, client);
  expect(got).toMatchObject(tc.want);
  expect(fake.requests.map((r) => r.body.SecretId).sort()).toEqual([...tc.fetched].sort());
  expect(env).toEqual(tc.env); // the input is not modified
});

it("fetches each secret once per process", async () => {
  const env = { SLACK_SIGNING_SECRET_SECRET_ARN: arn("slack-signing-secret") };
  await resolveSecrets(env, client);
  fake.secrets.set(arn("slack-signing-secret"), "rotated");
  const again = await resolveSecrets(env, client);
  expect(again.SLACK_SIGNING_SECRET).toBe("signing-from-secrets-manager");
  expect(fake.requests).toHaveLength(1);
  expect(fake.requests[0]!.operation).toBe("GetSecretValue");
});

it.for([
  { name: "a missing secret", secret: "missing", cause: "ResourceNotFoundException" },
  { name: "a secret without a value", secret: "empty", cause: "has no value" },
])("fails naming the variable and ARN for $name, and retries next time", async (tc) => {
  const env = { GITHUB_TOKEN_SECRET_ARN: arn(tc.secret) };
  const err = await resolveSecrets(env, client).catch((e: unknown) => e as Error);
  expect(err.message).toBe(`GITHUB_TOKEN_SECRET_ARN: cannot read secret ${arn(tc.secret)}`);
  const cause = err.cause as Error;
  expect(`${cause.name} ${cause.message}`).toContain(tc.cause);
  fake.secrets.set(arn(tc.secret), "now-set");
  expect((await resolveSecrets(env, client)).GITHUB_TOKEN).toBe("now-set");
});

it("forgets every secret variable and its ARN once the config holds them, and nothing else", async () => {
  const env: NodeJS.ProcessEnv = { SLACK_SIGNING_SECRET_SECRET_ARN: arn("slack-signing-secret"), GITHUB_TOKEN: "ghp_x", CLAUDE_API_KEY: "sk-ant-x", PATH: "/bin", AWS_REGION: "eu-west-1" };
  const resolved = await resolveSecrets(env, client);
  expect(resolved.SLACK_SIGNING_SECRET).toBe("signing-from-secrets-manager");
  forgetSecrets(resolved);
  forgetSecrets(env);
  for (const e of [env, resolved]) expect(Object.keys(e).sort()).toEqual(["AWS_REGION", "PATH"]);
});

it.for([
  { name: "without a value", secret: "empty" },
  { name: "without any version (ResourceNotFoundException)", secret: "missing" },
])("leaves an optional secret $name unset instead of failing the start", async (tc) => {
  const env = { ANTHROPIC_API_KEY_SECRET_ARN: arn(tc.secret), LINK_SIGNING_SECRET_SECRET_ARN: arn(tc.secret), GITHUB_TOKEN_SECRET_ARN: arn("github-token") };
  const got = await resolveSecrets(env, client);
  expect(got.GITHUB_TOKEN).toBe("ghp_from_secrets_manager");
  expect(got).not.toHaveProperty("ANTHROPIC_API_KEY");
  expect(got).not.toHaveProperty("LINK_SIGNING_SECRET");
  fake.secrets.set(arn(tc.secret), "sk-ant-set-later");
  expect((await resolveSecrets(env, client)).ANTHROPIC_API_KEY).toBe("sk-ant-set-later");
});
