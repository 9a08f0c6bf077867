import type { Server } from "node:http";
import dynalite from "dynalite";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../config/index.ts";
import { ensureTables, newDynamoClient } from "../jobs/index.ts";
import { acquirePrSlot, prRateGateDeps, type PrRateGateDeps, type RateWindow } from "./pr-rate-gate.ts";

let server: Server;
let config: Config;
let base: PrRateGateDeps;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  config = loadConfig({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`, DYNAMODB_JOBS_TABLE: "gate-jobs", DYNAMODB_REPOSITORIES_TABLE: "gate-repos" });
  const client = newDynamoClient(config);
  await ensureTables(client, config);
  base = prRateGateDeps(config, client);
});

afterAll(async () => {
  base.doc.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A fake clock whose sleep moves time forward, recording each wait. */
function fakeTime(start: number) {
  const clock = { t: start, sleeps: [] as number[] };
  return {
    clock,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
    random: () => 0.5,
  };
}

const MINUTE0 = Date.parse("2030-01-01T00:00:00Z");
let scopeSeq = 0;
const freshScope = () => `test${++scopeSeq}`;
const signal = new AbortController().signal;

describe("acquirePrSlot", () => {
  it("hands out the window's slots, then waits for the next window", async () => {
    const time = fakeTime(MINUTE0 + 10_000);
    const windows: RateWindow[] = [{ name: "minute", seconds: 60, limit: 2 }];
    const deps = { ...base, ...time, windows, scope: freshScope() };
    const req = { jobId: "j-a", minIntervalSeconds: 0, deadline: new Date(MINUTE0 + 3600_000) };
    expect(await acquirePrSlot(deps, req, signal)).toEqual({ kind: "ok" });
    expect(await acquirePrSlot(deps, req, signal)).toEqual({ kind: "ok" });
    expect(time.clock.sleeps).toEqual([]);
    expect(await acquirePrSlot(deps, req, signal)).toEqual({ kind: "ok" });
    expect(time.clock.t).toBeGreaterThanOrEqual(MINUTE0 + 60_000);
    expect(time.clock.sleeps).toHaveLength(1);
    const stored = await base.doc.send(new GetCommand({ TableName: config.jobsTable, Key: { jobId: `rate#${deps.scope}#minute#${Math.floor(MINUTE0 / 60_000)}` } }));
    expect(stored.Item).toMatchObject({ count: 2 });
  });

  it("times out with a reason when the hour is used up, without consuming the minute", async () => {
    const time = fakeTime(MINUTE0 + 10_000);
    const windows: RateWindow[] = [
      { name: "minute", seconds: 60, limit: 10 },
      { name: "hour", seconds: 3600, limit: 1 },
    ];
    const deps = { ...base, ...time, windows, scope: freshScope() };
    const req = { jobId: "j-b", minIntervalSeconds: 0, deadline: new Date(MINUTE0 + 600_000) };
    expect(await acquirePrSlot(deps, req, signal)).toEqual({ kind: "ok" });
    const second = await acquirePrSlot(deps, req, signal);
    expect(second).toEqual({ kind: "timed_out", reason: expect.stringContaining("GitHub allows 1 pull requests per hour") });
    expect(time.clock.sleeps).toEqual([]);
    const minute = await base.doc.send(new GetCommand({ TableName: config.jobsTable, Key: { jobId: `rate#${deps.scope}#minute#${Math.floor(MINUTE0 / 60_000)}` } }));
    expect(minute.Item).toMatchObject({ count: 1 });
  });

  it("spaces one job's pull requests by its minimum interval, and not another job's", async () => {
    const time = fakeTime(MINUTE0 + 5_000);
    const deps = { ...base, ...time, scope: freshScope() };
    const req = { jobId: "j-spaced", minIntervalSeconds: 20, deadline: new Date(MINUTE0 + 3600_000) };
    expect(await acquirePrSlot(deps, req, signal)).toEqual({ kind: "ok" });
    expect(await acquirePrSlot(deps, { ...req, jobId: "j-other" }, signal)).toEqual({ kind: "ok" });
    expect(time.clock.sleeps).toEqual([]);
    expect(await acquirePrSlot(deps, req, signal)).toEqual({ kind: "ok" });
    expect(time.clock.t - (MINUTE0 + 5_000)).toBeGreaterThanOrEqual(20_000);
  });

  it("times out when the job's next slot is past the deadline", async () => {
    const time = fakeTime(MINUTE0 + 5_000);
    const deps = { ...base, ...time, scope: freshScope() };
    const req = { jobId: "j-late", minIntervalSeconds: 300, deadline: new Date(MINUTE0 + 60_000) };
    expect(await acquirePrSlot(deps, req, signal)).toEqual({ kind: "ok" });
    expect(await acquirePrSlot(deps, req, signal)).toEqual({
      kind: "timed_out",
      reason: "no pull request slot before the time budget ran out: the job spaces its pull requests 300 s apart",
    });
  });

  it("does not hand out a slot in the closing guard of a window", async () => {
    const time = fakeTime(MINUTE0 + 59_500);
    const deps = { ...base, ...time, scope: freshScope(), guardMs: 2000 };
    expect(await acquirePrSlot(deps, { jobId: "j-g", minIntervalSeconds: 0, deadline: new Date(MINUTE0 + 3600_000) }, signal)).toEqual({ kind: "ok" });
    expect(time.clock.t).toBeGreaterThanOrEqual(MINUTE0 + 60_000);
  });

  it("stops waiting when the signal aborts", async () => {
    const deps = { ...base, scope: freshScope(), windows: [{ name: "w", seconds: 3600, limit: 0 }], guardMs: 0 };
    const ac = new AbortController();
    const pending = acquirePrSlot(deps, { jobId: "j-c", minIntervalSeconds: 0, deadline: new Date(Date.now() + 7200_000) }, ac.signal);
    setTimeout(() => ac.abort(new Error("cancelled")), 20);
    await expect(pending).rejects.toThrow("cancelled");
  });
});
