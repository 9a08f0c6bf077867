/**
 * Campaign actions whose chain of chunks broke (a chunk crashed and its dead letter was not
 * replayed) are resumed by the scheduled pass (issue 23): every job among the recent ones with an
 * action run that has not moved for STALE_MS gets its next chunk deferred again, as the person
 * who started it. The chunk continues from the cursor the run kept.
 */
import { actionRunOf, STALE_MS } from "../core/campaign/index.ts";
import type { Store } from "../core/jobs/index.ts";
import type { Logger } from "../core/runtime/index.ts";
import type { DeferredTask } from "./task-types.ts";

/** Defers the next chunk of every stalled action among the `limit` most recent jobs; returns how many. */
export async function resumeStalledActions(
  deps: { store: Pick<Store, "listJobs">; deferred: (task: DeferredTask) => Promise<void>; log: Logger },
  now: Date,
  limit = 100,
): Promise<number> {
  let n = 0;
  for (const job of await deps.store.listJobs(limit)) {
    const run = actionRunOf(job);
    if (!run || now.getTime() - Date.parse(run.updatedAt) <= STALE_MS) continue;
    deps.log.warn({ jobId: job.jobId, action: run.action, runId: run.runId, next: run.next }, "resuming a stalled campaign action");
    await deps.deferred({ kind: "campaign", action: run.action, jobId: job.jobId, userId: run.by, runId: run.runId });
    n += 1;
  }
  return n;
}
