import { BatchClient } from "@aws-sdk/client-batch";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeBatch, type FakeBatch } from "../../test/fakes/batch.ts";
import { arrayChunks, indexChunks, batchJobName, newBatchLauncher } from "./batch-launcher.ts";
import { newJobRows, type Job } from "../jobs/index.ts";
import type { Launcher } from "./launcher.ts";

const config = { env: "dev", region: "us-east-1", batchJobQueue: "cody-batch-dev-queue", batchJobDefinition: "cody-batch-dev-runner" };

function jobWith(n: number, jobId = "j-abcdefghij"): Job {
  const repositories = Array.from({ length: n }, (_, i) => `acme/repo-${i}`);
  return newJobRows(jobId, { name: "t", type: "script", script: "true", repositories, createdBy: "U1" }, new Date()).job;
}

let fake: FakeBatch;
let launcher: Launcher;
beforeEach(async () => {
  fake = await startFakeBatch();
  const client = new BatchClient({
    endpoint: fake.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  launcher = newBatchLauncher(config, client);
});
afterEach(async () => {
  await fake.close();
});

describe("arrayChunks", () => {
  it.for([
    { total: 1, want: [{ offset: 0, size: 1 }] },
    { total: 10_000, want: [{ offset: 0, size: 10_000 }] },
    { total: 10_001, want: [{ offset: 0, size: 10_000 }, { offset: 10_000, size: 1 }] },
    { total: 25_000, want: [{ offset: 0, size: 10_000 }, { offset: 10_000, size: 10_000 }, { offset: 20_000, size: 5_000 }] },
  ])("splits $total repositories", ({ total, want }) => {
    expect(arrayChunks(total)).toEqual(want);
  });
});

it("names jobs cody-<env>-<jobId> within Batch's alphabet", () => {
  expect(batchJobName("dev", "j-abc")).toBe("cody-dev-j-abc");
  expect(batchJobName("my env", "j-abc")).toBe("cody-my-env-j-abc");
});

describe("submit", () => {
  it.for([
    { name: "a single repository is a plain job", n: 1, wantSizes: [undefined], wantOffsets: ["0"] },
    { name: "several repositories are one array job", n: 3, wantSizes: [3], wantOffsets: ["0"] },
    { name: "more than 10,000 repositories are split into arrays with offsets", n: 20_001, wantSizes: [10_000, 10_000, undefined], wantOffsets: ["0", "10000", "20000"] },
  ])("$name", async (tc) => {
    const job = jobWith(tc.n);
    const { batchJobId } = await launcher.submit(job);
    const submits = fake.requests.filter((r) => r.operation === "submitjob");
    expect(submits.map((r) => (r.body.arrayProperties as { size?: number } | undefined)?.size)).toEqual(tc.wantSizes);
    for (const [i, r] of submits.entries()) {
      expect(r.body).toMatchObject({ jobName: "cody-dev-j-abcdefghij", jobQueue: config.batchJobQueue, jobDefinition: config.batchJobDefinition, tags: { CodyBatchStack: "cody-batch-dev" } });
      expect(r.body.containerOverrides).toEqual({
        environment: [
          { name: "JOB_ID", value: "j-abcdefghij" },
          { name: "ARRAY_INDEX_OFFSET", value: tc.wantOffsets[i] },
        ],
      });
    }
    expect(batchJobId.split(",")).toHaveLength(tc.wantSizes.length);
    expect(batchJobId.split(",").every((id) => fake.jobs.has(id))).toBe(true);
  });

  it("fails with the Batch error as cause", async () => {
    fake.failNext("SubmitJob", 400, "ClientException");
    const err = (await launcher.submit(jobWith(2)).then(
      () => new Error("no error"),
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain("submit batch job cody-dev-j-abcdefghij");
    expect((err.cause as Error).name).toBe("ClientException");
  });

  it("refuses to build without a queue", () => {
    expect(() => newBatchLauncher({ ...config, batchJobQueue: undefined })).toThrow(/AWS_BATCH_JOB_QUEUE/);
  });
});

describe("cancel", () => {
  it("cancels the array parent and terminates the children that started", async () => {
    const job = jobWith(4);
    const { batchJobId } = await launcher.submit(job);
    fake.setStatus(batchJobId, "PENDING");
    fake.setStatus(`${batchJobId}:0`, "RUNNING");
    fake.setStatus(`${batchJobId}:1`, "STARTING");
    fake.setStatus(`${batchJobId}:2`, "RUNNABLE");
    fake.setStatus(`${batchJobId}:3`, "SUCCEEDED");
    fake.requests.length = 0;

    await launcher.cancel({ ...job, batchJobId });

    const calls = fake.requests.filter((r) => r.operation === "canceljob" || r.operation === "terminatejob");
    expect(calls.filter((r) => r.operation === "canceljob").map((r) => r.body.jobId)).toEqual([batchJobId]);
    expect(calls.filter((r) => r.operation === "terminatejob").map((r) => r.body.jobId).sort()).toEqual([`${batchJobId}:0`, `${batchJobId}:1`]);
    expect(calls.every((r) => String(r.body.reason).startsWith("Cody cancelled job j-abcdefghij"))).toBe(true);
    expect(fake.jobs.get(`${batchJobId}:2`)!.status).toBe("FAILED");
    expect(fake.jobs.get(`${batchJobId}:3`)!.status).toBe("SUCCEEDED");
  });

  it.for([
    { status: "RUNNING", want: "terminatejob" },
    { status: "STARTING", want: "terminatejob" },
    { status: "RUNNABLE", want: "canceljob" },
    { status: "SUBMITTED", want: "canceljob" },
  ])("a plain job in $status gets $want", async ({ status, want }) => {
    const job = jobWith(1);
    const { batchJobId } = await launcher.submit(job);
    fake.setStatus(batchJobId, status);
    fake.requests.length = 0;
    await launcher.cancel({ ...job, batchJobId });
    const calls = fake.requests.filter((r) => r.operation === "canceljob" || r.operation === "terminatejob");
    expect(calls).toEqual([{ operation: want, body: { jobId: batchJobId, reason: "Cody cancelled job j-abcdefghij" } }]);
  });

  it("leaves finished jobs alone", async () => {
    const job = jobWith(2);
    const { batchJobId } = await launcher.submit(job);
    fake.setStatus(batchJobId, "SUCCEEDED");
    fake.requests.length = 0;
    await launcher.cancel({ ...job, batchJobId });
    expect(fake.requests.map((r) => r.operation)).toEqual(["describejobs"]);
  });

  it("cancels every part of a split job", async () => {
    const job = jobWith(10_002);
    const { batchJobId } = await launcher.submit(job);
    const [first, second] = batchJobId.split(",");
    fake.requests.length = 0;
    await launcher.cancel({ ...job, batchJobId });
    expect(fake.requests.filter((r) => r.operation === "canceljob").map((r) => r.body.jobId)).toEqual([first, second]);
  }, 30_000);

  it("finds the submissions by job name when the row has no batchJobId", async () => {
    const job = jobWith(1);
    const { batchJobId } = await launcher.submit(job);
    fake.requests.length = 0;
    await launcher.cancel({ ...job, batchJobId: undefined });
    expect(fake.requests[0]).toMatchObject({
      operation: "listjobs",
      body: { jobQueue: config.batchJobQueue, filters: [{ name: "JOB_NAME", values: ["cody-dev-j-abcdefghij"] }] },
    });
    expect(fake.requests.at(-1)).toEqual({ operation: "canceljob", body: { jobId: batchJobId, reason: "Cody cancelled job j-abcdefghij" } });
  });
});

describe("indexChunks (a campaign retry launches only some repositories)", () => {
  it.for([
    { name: "one index", indexes: [7], want: [{ offset: 7, size: 1 }] },
    { name: "runs of consecutive indexes", indexes: [9, 1, 2, 3, 8], want: [{ offset: 1, size: 3 }, { offset: 8, size: 2 }] },
    { name: "too many runs become one range", indexes: Array.from({ length: 12 }, (_, i) => i * 3 + 5), want: [{ offset: 5, size: 34 }] },
    { name: "nothing", indexes: [], want: [] },
  ])("$name", ({ indexes, want }) => {
    expect(indexChunks(indexes)).toEqual(want);
  });
});
