/**
 * A 1000-repository script job end to end: the embedded stack in its own process, the fake
 * Slack here (answering a share of calls 429 with Retry-After), and the orchestrating process
 * (job1000-worker.ts) whose DynamoDB requests, Slack calls and peak RSS are measured. Every
 * repository must appear exactly once across the thread's replies.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startFakeSlack } from "../../test/fakes/slack.ts";
import { BENCH_DIR, ensureRemotes } from "./fixtures.ts";
import { runTs, startStackProcess } from "./processes.ts";
import { round } from "./results.ts";

export type Job1000Result = {
  repos: number;
  wallS: number;
  status: string;
  createRequests: number;
  runRequests: number;
  totalRequests: number;
  perRepo: number;
  slackCalls: number;
  slack429s: number;
  slackGoal: number;
  peakRssMb: number;
  lostOrDuplicated: number;
  replies: number;
};

type WorkerOut = {
  jobId: string;
  wallS: number;
  status: string;
  counters: Record<string, number>;
  threadTs: string;
  channel: string;
  createRequests: number;
  runRequests: number;
  peakRssMb: number;
};

export async function benchJob1000(opts: { repos: number; concurrency: number; rateLimitFraction: number; retryAfterSeconds: number }): Promise<Job1000Result> {
  const { names, gitBaseUrl } = ensureRemotes(opts.repos);
  const slack = await startFakeSlack({ rateLimitFraction: opts.rateLimitFraction, retryAfterSeconds: opts.retryAfterSeconds });
  const stack = await startStackProcess();
  const work = join(BENCH_DIR, "work");
  mkdirSync(work, { recursive: true });
  try {
    const out = await runTs<WorkerOut>(
      "scripts/bench/job1000-worker.ts",
      {
        ...process.env,
        ...stack.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        SLACK_BOT_TOKEN: slack.token,
        SLACK_API_URL: slack.apiUrl,
        SLACK_SIGNING_SECRET: "bench-signing-secret-0123456789",
        BOT_PUBLIC_URL: "http://bot.bench",
        GIT_BASE_URL: gitBaseUrl,
        WORK_DIR: work,
        BENCH_REPOS: names.join(","),
        BENCH_CONCURRENCY: String(opts.concurrency),
        LOG_LEVEL: "silent",
      },
      9 * 60_000,
    );
    const seen = new Map<string, number>();
    const replies = slack.replies(out.channel, out.threadTs);
    for (const m of replies) {
      for (const b of (m.blocks ?? []) as { text?: { text?: string } }[]) {
        for (const match of (b.text?.text ?? "").matchAll(/\*(bench\/repo-\d+)\*/g)) seen.set(match[1]!, (seen.get(match[1]!) ?? 0) + 1);
      }
    }
    const lost = names.filter((n) => !seen.has(n)).length;
    const duplicated = [...seen.values()].reduce((a, c) => a + (c - 1), 0);
    const total = out.createRequests + out.runRequests;
    return {
      repos: opts.repos,
      wallS: round(out.wallS, 1),
      status: out.status,
      createRequests: out.createRequests,
      runRequests: out.runRequests,
      totalRequests: total,
      perRepo: round(out.runRequests / opts.repos, 2),
      slackCalls: slack.calls.length,
      slack429s: slack.calls.filter((c) => c.status === 429).length,
      slackGoal: Math.round(opts.repos / 4 + 60),
      peakRssMb: round(out.peakRssMb, 1),
      lostOrDuplicated: lost + duplicated,
      replies: replies.length,
    };
  } finally {
    await stack.stop();
    await slack.close();
  }
}
