/**
 * Thirty runners open pull requests at once. Each has its own GitHub client (as separate
 * processes would); they coordinate only through the rate gate in DynamoDB (dynalite), and the
 * fake GitHub enforces a creation rate and records the most creations it saw in one window.
 * The ungated run goes first: it also warms up the request path, whose first calls are slow
 * enough to carry a late slot into the next window.
 */
import type { Server } from "node:http";
import dynalite from "dynalite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/config/index.ts";
import { newGitHub } from "../core/github/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { acquirePrSlot, prRateGateDeps, type PrRateGateDeps } from "../core/github/index.ts";
import { ensureTables, newDynamoClient } from "../core/jobs/index.ts";
import { newGitHubForge, openOrUpdatePullRequest, type PullRequestDeps } from "../runner/pull-request.ts";
import { startFakeGitHub, type FakeGitHub } from "./fakes/github.ts";

const TOKEN = "ghp_ratetesttoken000000000000000000000";
const RUNNERS = 30;
const WINDOW_MS = 1000;
const LIMIT = 6;

let dynamo: Server;
let gate: PrRateGateDeps;

beforeAll(async () => {
  dynamo = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, "127.0.0.1", resolve));
  const config = loadConfig({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${(dynamo.address() as { port: number }).port}` });
  const client = newDynamoClient(config);
  await ensureTables(client, config);
  gate = prRateGateDeps(config, client);
});

afterAll(async () => {
  gate.doc.destroy();
  await new Promise<void>((resolve) => dynamo.close(() => resolve()));
});

async function fleet(useGate: boolean): Promise<{ fake: FakeGitHub; outcomes: Array<{ kind: string }> }> {
  const fake = await startFakeGitHub({ tokens: [TOKEN], prCreationLimit: { windowMs: WINDOW_MS, limit: LIMIT } });
  const jobId = `j-rate${useGate ? "gated" : "free"}`;
  for (let i = 0; i < RUNNERS; i++) {
    fake.addRepo(`fleet/repo-${i}`);
    fake.setBranch(`fleet/repo-${i}`, `cody/${jobId}`, "b".repeat(40)); // the runner's push
  }
  const log = newLogger({ level: "silent" });
  const windows = [{ name: `second-${jobId}`, seconds: WINDOW_MS / 1000, limit: LIMIT }];
  try {
    const outcomes = await Promise.all(
      Array.from({ length: RUNNERS }, (_, i) => {
        // No rate-limit retries: a creation above the fake's rate shows up as a failure.
        const gh = newGitHub({ github: { token: TOKEN, apiUrl: fake.url } }, { retryAfterBaseValue: 1, writeMinTimeMs: 0, notificationMinTimeMs: 0, maxRateLimitRetries: 0 });
        const deps: PullRequestDeps = {
          forge: newGitHubForge(gh.octokit),
          log,
          ...(useGate
            ? { acquireSlot: (req, signal) => acquirePrSlot({ ...gate, windows, guardMs: 300 }, { ...req, deadline: new Date(Date.now() + 60_000) }, signal) }
            : {}),
        };
        const job = { jobId, name: "Fleet change", type: "script" as const, script: "true", pullRequest: { draft: false, labels: [], reviewers: [], teamReviewers: [], assignees: [], minIntervalSeconds: 0 } };
        return openOrUpdatePullRequest(deps, { job, repository: `fleet/repo-${i}`, head: `cody/${jobId}`, base: "main" }, new AbortController().signal);
      }),
    );
    return { fake, outcomes };
  } catch (err) {
    await fake.close();
    throw err;
  }
}

describe("pull request creation across runners", () => {
  it("goes over the rate without the gate (the fake does enforce it)", async () => {
    const { fake, outcomes } = await fleet(false);
    try {
      expect(fake.prCreations.rejected).toBeGreaterThan(0);
      expect(outcomes.filter((o) => o.kind === "failed").length).toBe(fake.prCreations.rejected);
    } finally {
      await fake.close();
    }
  });

  it("never exceeds GitHub's creation rate when 30 runners go at once through the gate", async () => {
    const { fake, outcomes } = await fleet(true);
    try {
      expect(outcomes.filter((o) => o.kind !== "opened")).toEqual([]);
      expect(fake.prCreations.total).toBe(RUNNERS);
      expect(fake.prCreations.rejected).toBe(0);
      expect(fake.prCreations.maxPerWindow).toBeLessThanOrEqual(LIMIT);
      for (let i = 0; i < RUNNERS; i++) expect(fake.pulls(`fleet/repo-${i}`)).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
