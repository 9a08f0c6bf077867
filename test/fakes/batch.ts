/**
 * An in-process fake of the AWS Batch API (REST-JSON protocol, `POST /v1/<operation>`), serving
 * only the calls Cody Batch makes: SubmitJob, DescribeJobs, ListJobs, CancelJob, TerminateJob.
 * Any other route answers 501 naming it, so a new call cannot pass unnoticed.
 *
 * Array jobs get children `<parentId>:<index>` in SUBMITTED; tests move jobs between statuses with
 * `setStatus`; an array parent reports its children's counts in `arrayProperties.statusSummary`,
 * as Batch does. `now` is the fake's clock for `createdAt` (tests simulate hours). Every request is recorded with its operation and parsed body.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A job as the fake keeps it. */
export type FakeBatchJob = {
  jobId: string;
  jobName: string;
  jobQueue: string;
  jobDefinition: string;
  status: string;
  statusReason?: string;
  arraySize?: number;
  parentId?: string;
  index?: number;
  containerOverrides?: unknown;
  /** Epoch ms of the submission (the fake's clock, see `now`). */
  createdAt: number;
};

/** One request the fake received. */
export type FakeBatchRequest = { operation: string; body: Record<string, unknown> };

export type FakeBatch = {
  /** Endpoint for the SDK client (`http://127.0.0.1:<port>`). */
  url: string;
  requests: FakeBatchRequest[];
  jobs: Map<string, FakeBatchJob>;
  /** Sets a job's status (parent or child id); a parent's `withChildren` moves its children too. */
  setStatus(jobId: string, status: string, withChildren?: boolean): void;
  /** Makes the next call of `operation` fail with this HTTP status and AWS error type. */
  failNext(operation: string, httpStatus: number, errorType: string): void;
  close(): Promise<void>;
};

const ACTIVE = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"];

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeBatch(opts: { now?: () => number } = {}): Promise<FakeBatch> {
  const now = opts.now ?? Date.now;
  const jobs = new Map<string, FakeBatchJob>();
  const requests: FakeBatchRequest[] = [];
  const failures = new Map<string, { httpStatus: number; errorType: string }>();
  let seq = 0;

  const detail = (j: FakeBatchJob) => ({
    jobId: j.jobId,
    jobName: j.jobName,
    jobArn: `arn:aws:batch:us-east-1:000000000000:job/${j.jobId}`,
    jobQueue: j.jobQueue,
    jobDefinition: j.jobDefinition,
    status: j.status,
    ...(j.statusReason ? { statusReason: j.statusReason } : {}),
    ...(j.arraySize !== undefined ? { arrayProperties: { size: j.arraySize, statusSummary: summaryOf(j.jobId) } } : {}),
    ...(j.index !== undefined ? { arrayProperties: { index: j.index } } : {}),
    createdAt: j.createdAt,
    startedAt: 0,
  });
  // An array parent's children by status, as Batch reports them in arrayProperties.statusSummary.
  const summaryOf = (parentId: string) => {
    const counts: Record<string, number> = {};
    for (const c of jobs.values()) if (c.parentId === parentId) counts[c.status] = (counts[c.status] ?? 0) + 1;
    return counts;
  };

  const operations: Record<string, (body: Record<string, unknown>) => [number, unknown]> = {
    submitjob(body) {
      const jobId = `job-${++seq}`;
      const size = (body.arrayProperties as { size?: number } | undefined)?.size;
      const job: FakeBatchJob = {
        jobId,
        jobName: String(body.jobName),
        jobQueue: String(body.jobQueue),
        jobDefinition: String(body.jobDefinition),
        status: "SUBMITTED",
        containerOverrides: body.containerOverrides,
        createdAt: now(),
        ...(size !== undefined ? { arraySize: size } : {}),
      };
      jobs.set(jobId, job);
      for (let i = 0; i < (size ?? 0); i++) {
        jobs.set(`${jobId}:${i}`, { ...job, jobId: `${jobId}:${i}`, arraySize: undefined, parentId: jobId, index: i });
      }
      return [200, { jobArn: `arn:aws:batch:us-east-1:000000000000:job/${jobId}`, jobName: job.jobName, jobId }];
    },
    describejobs(body) {
      const ids = (body.jobs as string[] | undefined) ?? [];
      if (ids.length > 100) return [400, { __type: "ClientException", message: "at most 100 jobs" }];
      return [200, { jobs: ids.flatMap((id) => (jobs.has(id) ? [detail(jobs.get(id)!)] : [])) }];
    },
    listjobs(body) {
      let list = [...jobs.values()];
      if (body.arrayJobId) list = list.filter((j) => j.parentId === body.arrayJobId);
      else list = list.filter((j) => j.parentId === undefined && j.jobQueue === body.jobQueue);
      const filters = (body.filters as { name: string; values: string[] }[] | undefined) ?? [];
      const byName = filters.find((f) => f.name === "JOB_NAME");
      if (byName) list = list.filter((j) => byName.values.some((v) => (v.endsWith("*") ? j.jobName.startsWith(v.slice(0, -1)) : j.jobName === v)));
      else list = list.filter((j) => j.status === (body.jobStatus ?? "RUNNING"));
      const start = Number(body.nextToken ?? 0);
      const max = Number(body.maxResults ?? 100);
      const page = list.slice(start, start + max);
      const next = start + max < list.length ? String(start + max) : undefined;
      return [
        200,
        {
          jobSummaryList: page.map((j) => ({
            jobId: j.jobId,
            jobName: j.jobName,
            status: j.status,
            createdAt: j.createdAt,
            ...(j.index !== undefined ? { arrayProperties: { index: j.index } } : {}),
            ...(j.arraySize !== undefined ? { arrayProperties: { size: j.arraySize } } : {}),
          })),
          ...(next ? { nextToken: next } : {}),
        },
      ];
    },
    canceljob(body) {
      const j = jobs.get(String(body.jobId));
      if (!j) return [400, { __type: "ClientException", message: `job ${String(body.jobId)} not found` }];
      if (["SUBMITTED", "PENDING", "RUNNABLE"].includes(j.status)) {
        j.status = "FAILED";
        j.statusReason = String(body.reason);
        // Cancelling an array parent cancels its children that have not started.
        for (const c of jobs.values()) {
          if (c.parentId === j.jobId && ["SUBMITTED", "PENDING", "RUNNABLE"].includes(c.status)) {
            c.status = "FAILED";
            c.statusReason = String(body.reason);
          }
        }
      }
      return [200, {}];
    },
    terminatejob(body) {
      const j = jobs.get(String(body.jobId));
      if (!j) return [400, { __type: "ClientException", message: `job ${String(body.jobId)} not found` }];
      if (ACTIVE.includes(j.status)) {
        j.status = "FAILED";
        j.statusReason = String(body.reason);
      }
      return [200, {}];
    },
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: unknown, errorType?: string) => {
        res.writeHead(status, {
          "content-type": "application/json",
          ...(errorType ? { "x-amzn-errortype": errorType } : {}),
        });
        res.end(JSON.stringify(body));
      };
      const m = /^\/v1\/([a-z]+)$/.exec(req.url ?? "");
      const handler = m && req.method === "POST" ? operations[m[1]!] : undefined;
      if (!m || !handler) return send(501, { message: `fake batch: ${req.method} ${req.url} not implemented` }, "NotImplemented");
      const operation = m[1]!;
      let body: Record<string, unknown>;
      try {
        body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
      } catch {
        return send(400, { message: "body is not JSON" }, "ClientException");
      }
      requests.push({ operation, body });
      const fail = failures.get(operation);
      if (fail) {
        failures.delete(operation);
        return send(fail.httpStatus, { message: `injected ${fail.errorType}` }, fail.errorType);
      }
      const [status, out] = handler(body);
      const errorType = status >= 400 ? (out as { __type?: string }).__type : undefined;
      send(status, out, errorType);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    jobs,
    setStatus(jobId, status, withChildren) {
      const j = jobs.get(jobId);
      if (!j) throw new Error(`fake batch: no job ${jobId}`);
      j.status = status;
      if (withChildren) for (const c of jobs.values()) if (c.parentId === jobId) c.status = status;
    },
    failNext(operation, httpStatus, errorType) {
      failures.set(operation.toLowerCase(), { httpStatus, errorType });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
