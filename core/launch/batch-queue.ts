/**
 * What AWS Batch says about a Cody job's submissions, for the watchdog: a job whose array is
 * still SUBMITTED/PENDING/RUNNABLE (or has children in those statuses) is queued, not lost,
 * and the watchdog must not fail its rows. Also says what the job waits behind: the other
 * jobs of the same queue that are RUNNING/STARTING or were queued earlier.
 */
import { BatchClient, DescribeJobsCommand, ListJobsCommand, type JobDetail, type JobStatus } from "@aws-sdk/client-batch";
import { batchJobName } from "./batch-launcher.ts";
import type { Config } from "../config/index.ts";
import { AWS_HTTP_TIMEOUTS, type Job } from "../jobs/index.ts";

/** Statuses of a Batch job (or child) that has not started yet: queued, never lost. */
export const QUEUED_STATUSES: readonly string[] = ["SUBMITTED", "PENDING", "RUNNABLE"];
const STARTED_STATUSES: readonly string[] = ["STARTING", "RUNNING"];

/** A job ahead in the queue: Batch job name, status, array size. */
export type AheadJob = { jobName: string; status: string; size?: number };

/** What Batch says about a job's submissions. */
export type QueueState =
  /** Some work has not started yet: `queued` children (or the whole plain job) wait for capacity since `since`. */
  | { kind: "queued"; status: string; queued: number; since?: Date; ahead: AheadJob[] }
  /** Everything submitted has started (some still run). */
  | { kind: "started" }
  /** Nothing of the job is active in Batch (ended, or unknown to Batch): rows without a runner are lost. */
  | { kind: "gone" }
  /** Batch could not be asked: the watchdog fails nothing for this job this pass. */
  | { kind: "unknown"; reason: string };

/** The probe port: what Batch says about one job. Never throws: errors are `unknown`. */
export type QueueProbe = (job: Pick<Job, "jobId" | "batchJobId">, signal?: AbortSignal) => Promise<QueueState>;

/** Counts of children by status from an array parent's `statusSummary`, or the job's own status for a plain job. */
function queuedCount(d: JobDetail): { queued: number; started: number } {
  const summary = d.arrayProperties?.statusSummary;
  if (d.arrayProperties?.size !== undefined && summary && Object.keys(summary).length > 0) {
    const sum = (statuses: readonly string[]) => statuses.reduce((n, s) => n + (summary[s] ?? 0), 0);
    return { queued: sum(QUEUED_STATUSES), started: sum(STARTED_STATUSES) };
  }
  if (d.status && QUEUED_STATUSES.includes(d.status)) return { queued: d.arrayProperties?.size ?? 1, started: 0 };
  if (d.status && STARTED_STATUSES.includes(d.status)) return { queued: 0, started: 1 };
  return { queued: 0, started: 0 };
}

/**
 * A probe over AWS Batch: DescribeJobs on the job's submissions (`batchJobId`, comma-separated
 * when split), and for a queued job a ListJobs of the same queue (RUNNING, STARTING, RUNNABLE)
 * for what runs or waits ahead of it. A job without a `batchJobId` counts as `unknown` while
 * `jobName(jobId)` finds active submissions by name, else `gone`.
 */
export function newBatchQueueProbe(client: BatchClient, opts: { queue: string; jobName: (jobId: string) => string; maxAhead?: number }): QueueProbe {
  const maxAhead = opts.maxAhead ?? 5;
  return async (job, signal) => {
    try {
      let ids = job.batchJobId ? job.batchJobId.split(",").filter(Boolean) : [];
      if (ids.length === 0) ids = await activeByName(client, opts.queue, opts.jobName(job.jobId), signal);
      if (ids.length === 0) return { kind: "gone" };
      const out = await client.send(new DescribeJobsCommand({ jobs: ids.slice(0, 100) }), { abortSignal: signal });
      let queued = 0;
      let started = 0;
      let since: number | undefined;
      let status = "";
      for (const d of out.jobs ?? []) {
        const c = queuedCount(d);
        queued += c.queued;
        started += c.started;
        if (c.queued > 0) {
          status ||= d.status && QUEUED_STATUSES.includes(d.status) ? d.status : "RUNNABLE";
          if (d.createdAt !== undefined) since = Math.min(since ?? d.createdAt, d.createdAt);
        }
      }
      if (queued > 0) {
        const ahead = await aheadOf(client, opts.queue, new Set(ids), since, maxAhead, signal);
        return { kind: "queued", status, queued, ...(since !== undefined ? { since: new Date(since) } : {}), ahead };
      }
      return started > 0 ? { kind: "started" } : { kind: "gone" };
    } catch (err) {
      return { kind: "unknown", reason: (err as Error).message };
    }
  };
}

async function activeByName(client: BatchClient, queue: string, name: string, signal?: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListJobsCommand({ jobQueue: queue, filters: [{ name: "JOB_NAME", values: [name] }], nextToken }), { abortSignal: signal });
    for (const s of page.jobSummaryList ?? []) {
      if (s.jobId && s.status && (QUEUED_STATUSES.includes(s.status) || STARTED_STATUSES.includes(s.status))) ids.push(s.jobId);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return ids;
}

/** Jobs of the queue that run, or were queued before `since`: what this job waits behind (first page of each status). */
async function aheadOf(client: BatchClient, queue: string, own: Set<string>, since: number | undefined, max: number, signal?: AbortSignal): Promise<AheadJob[]> {
  const ahead: (AheadJob & { createdAt: number })[] = [];
  for (const jobStatus of ["RUNNING", "STARTING", "RUNNABLE"] as JobStatus[]) {
    const page = await client.send(new ListJobsCommand({ jobQueue: queue, jobStatus, maxResults: 100 }), { abortSignal: signal });
    for (const s of page.jobSummaryList ?? []) {
      if (!s.jobId || own.has(s.jobId) || !s.jobName) continue;
      const createdAt = s.createdAt ?? 0;
      if (jobStatus === "RUNNABLE" && since !== undefined && createdAt >= since) continue;
      ahead.push({ jobName: s.jobName, status: jobStatus, ...(s.arrayProperties?.size !== undefined ? { size: s.arrayProperties.size } : {}), createdAt });
    }
  }
  return ahead
    .sort((a, b) => a.createdAt - b.createdAt)
    .slice(0, max)
    .map(({ createdAt: _c, ...a }) => a);
}

/**
 * The probe for a config's queue (bot schedule, `cody watchdog --env`, `cody doctor`). The SDK's
 * own AWS_ENDPOINT_URL_BATCH points it at another endpoint (tests: the Batch fake).
 */
export function queueProbeFromConfig(config: Pick<Config, "env" | "region" | "batchJobQueue">): QueueProbe {
  const client = new BatchClient({ region: config.region, requestHandler: AWS_HTTP_TIMEOUTS });
  return newBatchQueueProbe(client, { queue: config.batchJobQueue ?? "", jobName: (id) => batchJobName(config.env, id) });
}
