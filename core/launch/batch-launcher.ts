/**
 * The AWS Batch launcher: one array job per Cody job, one child per repository.
 *
 * - Size = number of repositories. A single repository is a plain job (arrays need at least 2).
 * - More than 10,000 repositories (Batch's array limit) are split into several jobs of at most
 *   10,000. Each carries `ARRAY_INDEX_OFFSET`; the runner's repository index is
 *   `ARRAY_INDEX_OFFSET + AWS_BATCH_JOB_ARRAY_INDEX` (the latter absent, i.e. 0, for a plain job).
 * - Every submission has the job name `cody-<env>-<jobId>` and `JOB_ID` as a container override;
 *   queue and job definition come from the config.
 * - The returned `batchJobId` is the Batch job id, or several ids joined with `,` when split.
 */
import {
  BatchClient,
  CancelJobCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type JobStatus,
} from "@aws-sdk/client-batch";
import type { Config } from "../config/index.ts";
import type { Launcher } from "./launcher.ts";
import { AWS_HTTP_TIMEOUTS } from "../jobs/index.ts";

/** AWS Batch's largest array size. */
export const MAX_ARRAY_SIZE = 10_000;

/** Prefix of the reason given to CancelJob/TerminateJob; the job definition's retry strategy never retries it. */
export const CANCEL_REASON_PREFIX = "Cody cancelled";

/**
 * The tag every submission carries (the stack puts the same one on every resource): the bot may
 * cancel only jobs with its own stack's tag, and the budget counts the Fargate tasks through it.
 */
export const STACK_TAG_KEY = "CodyBatchStack";

/** The value of {@link STACK_TAG_KEY} for an environment: `cody-batch-<env>`, the stack's name. */
export function stackTagValue(env: string): string {
  return `cody-batch-${env}`;
}

/** The environment variable that shifts a child's array index (see the module comment). */
export const ARRAY_INDEX_OFFSET_VAR = "ARRAY_INDEX_OFFSET";

const STARTED: JobStatus[] = ["STARTING", "RUNNING"];
const QUEUED: string[] = ["SUBMITTED", "PENDING", "RUNNABLE"];
const TERMINATE_CONCURRENCY = 8;

export type BatchLauncherConfig = Pick<Config, "env" | "region" | "batchJobQueue" | "batchJobDefinition">;

/** The Batch job name for a Cody job: `cody-<env>-<jobId>`, limited to Batch's alphabet and 128 characters. */
export function batchJobName(env: string, jobId: string): string {
  return `cody-${env}-${jobId}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 128);
}

/** Splits `total` repositories into submissions of at most `max`: `[{ offset, size }]`. */
export function arrayChunks(total: number, max: number = MAX_ARRAY_SIZE): { offset: number; size: number }[] {
  const chunks: { offset: number; size: number }[] = [];
  for (let offset = 0; offset < total; offset += max) chunks.push({ offset, size: Math.min(max, total - offset) });
  return chunks;
}

/**
 * A launcher on AWS Batch. Throws (with the SDK error as cause) when the config lacks a queue or
 * definition, or when Batch refuses a call; a split submission that fails half-way leaves the
 * submitted part running (the runners claim rows conditionally, so a retry does no harm).
 */
export function newBatchLauncher(config: BatchLauncherConfig, client?: BatchClient): Launcher {
  const queue = config.batchJobQueue;
  const definition = config.batchJobDefinition;
  if (!queue || !definition) throw new Error("the batch launcher needs AWS_BATCH_JOB_QUEUE and AWS_BATCH_JOB_DEFINITION");
  const batch = client ?? new BatchClient({ region: config.region, requestHandler: AWS_HTTP_TIMEOUTS });

  return {
    async submit(job, signal, indexes) {
      const jobName = batchJobName(config.env, job.jobId);
      const ids: string[] = [];
      for (const { offset, size } of indexes ? indexChunks(indexes) : arrayChunks(job.repositories.length)) {
        try {
          const out = await batch.send(
            new SubmitJobCommand({
              jobName,
              jobQueue: queue,
              jobDefinition: definition,
              ...(size > 1 ? { arrayProperties: { size } } : {}),
              tags: { [STACK_TAG_KEY]: stackTagValue(config.env) },
              containerOverrides: {
                environment: [
                  { name: "JOB_ID", value: job.jobId },
                  { name: ARRAY_INDEX_OFFSET_VAR, value: String(offset) },
                ],
              },
            }),
            { abortSignal: signal },
          );
          if (!out.jobId) throw new Error("SubmitJob returned no jobId");
          ids.push(out.jobId);
        } catch (cause) {
          throw new Error(`submit batch job ${jobName} (offset ${offset}, size ${size})`, { cause });
        }
      }
      return { batchJobId: ids.join(",") };
    },

    async cancel(job, signal) {
      const reason = `${CANCEL_REASON_PREFIX} job ${job.jobId}`;
      const ids = job.batchJobId ? job.batchJobId.split(",").filter(Boolean) : await findByName(batch, queue, batchJobName(config.env, job.jobId), signal);
      if (ids.length === 0) return;
      const described = await batch.send(new DescribeJobsCommand({ jobs: ids }), { abortSignal: signal });
      for (const d of described.jobs ?? []) {
        if (!d.jobId || !d.status || !isActive(d.status)) continue;
        if (d.arrayProperties?.size !== undefined) {
          // One CancelJob on the parent cancels every child that has not started;
          // children already STARTING/RUNNING ignore it and must be terminated one by one.
          await batch.send(new CancelJobCommand({ jobId: d.jobId, reason }), { abortSignal: signal });
          const started: string[] = [];
          for (const status of STARTED) started.push(...(await listChildren(batch, d.jobId, status, signal)));
          await forEachLimited(started, TERMINATE_CONCURRENCY, (id) =>
            batch.send(new TerminateJobCommand({ jobId: id, reason }), { abortSignal: signal }),
          );
        } else if (STARTED.includes(d.status)) {
          await batch.send(new TerminateJobCommand({ jobId: d.jobId, reason }), { abortSignal: signal });
        } else {
          await batch.send(new CancelJobCommand({ jobId: d.jobId, reason }), { abortSignal: signal });
        }
      }
    },
  } satisfies Launcher;
}

/** Most submissions a partial launch makes; beyond, one range covers them all (extra children find their rows ended and exit). */
export const MAX_PARTIAL_SUBMISSIONS = 10;

/**
 * Submissions for some repository indexes only (a campaign retry): one `{ offset, size }` per run
 * of consecutive indexes; more than MAX_PARTIAL_SUBMISSIONS runs become one range from the
 * lowest to the highest index (runners of rows that are not PENDING end at once).
 */
export function indexChunks(indexes: readonly number[], max: number = MAX_ARRAY_SIZE): { offset: number; size: number }[] {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const runs: { offset: number; size: number }[] = [];
  for (const i of sorted) {
    const last = runs.at(-1);
    if (last && last.offset + last.size === i && last.size < max) last.size += 1;
    else runs.push({ offset: i, size: 1 });
  }
  if (runs.length <= MAX_PARTIAL_SUBMISSIONS) return runs;
  const first = sorted[0]!;
  return arrayChunks(sorted.at(-1)! - first + 1, max).map((c) => ({ offset: c.offset + first, size: c.size }));
}

function isActive(status: string): boolean {
  return QUEUED.includes(status) || (STARTED as string[]).includes(status);
}

/** Ids of the job's submissions when the job row lost its batchJobId (e.g. a crash right after submit). */
async function findByName(batch: BatchClient, queue: string, name: string, signal?: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await batch.send(
      new ListJobsCommand({ jobQueue: queue, filters: [{ name: "JOB_NAME", values: [name] }], nextToken }),
      { abortSignal: signal },
    );
    for (const s of page.jobSummaryList ?? []) if (s.jobId && s.status && isActive(s.status)) ids.push(s.jobId);
    nextToken = page.nextToken;
  } while (nextToken);
  return ids;
}

async function listChildren(batch: BatchClient, arrayJobId: string, jobStatus: JobStatus, signal?: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await batch.send(new ListJobsCommand({ arrayJobId, jobStatus, maxResults: 1000, nextToken }), { abortSignal: signal });
    for (const s of page.jobSummaryList ?? []) if (s.jobId) ids.push(s.jobId);
    nextToken = page.nextToken;
  } while (nextToken);
  return ids;
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
