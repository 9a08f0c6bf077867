/**
 * 200-repository jobs with in-process runners (runRepo through the local launcher, as
 * LOCAL_RUNNER=inprocess does), real bare remotes, dynalite and s3rver:
 * - cancelled in the middle: PENDING repositories end at once, running ones at their next step,
 *   and no branch appears after the cancel except for repositories that were already pushing;
 * - with the Slack fake answering 20 % of calls with 429: every repository reported exactly once.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newJobId, validateJobRequest, type JobRequest, type RepoRow } from "../core/jobs/index.ts";
import { newLocalLauncher, type LocalLauncher } from "../core/launch/index.ts";
import { newConsoleNotifier, type Notifier } from "../core/jobs/index.ts";
import { newDynamoClient } from "../core/jobs/index.ts";
import { newSlackClient, newSlackNotifier } from "../bot/slack-notifier.ts";
import { cancelJob, submitJob } from "../core/launch/index.ts";
import { runRepo, type RunRepoDeps } from "../runner/run-repo.ts";
import { startFakeSlack, type FakeSlack } from "./fakes/slack.ts";
import { sharedDir, type SharedDir } from "./support/shared-dir.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "./support/stack.ts";

const N = 200;
let stack: TestStack;
let remotes: TestRemotes;
let workDir: string;
let shared: SharedDir;
let slack: FakeSlack | undefined;
const names = Array.from({ length: N }, (_, i) => `fleet/svc-${String(i).padStart(3, "0")}`);

beforeAll(async () => {
  remotes = tempRemotes();
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl });
  workDir = mkdtempSync(join(tmpdir(), "cody-scale-"));
  // The gate file the scripts wait for: not under /tmp, which a sandboxed script sees as its own empty tmpfs.
  shared = sharedDir("cody-scale-gate-");
  // One real remote, copied: a bare repository is just files.
  const template = remotes.make("fleet/template", { "VERSION": "1\n", "README.md": "# svc\n" });
  for (const n of names) cpSync(template, join(remotes.root, `${n}.git`), { recursive: true });
});

afterAll(async () => {
  await slack?.close();
  await stack?.stop();
  remotes?.cleanup();
  rmSync(workDir, { recursive: true, force: true });
  shared?.cleanup();
});

function runnerDeps(notifier: Notifier): RunRepoDeps {
  return {
    store: stack.store,
    artifacts: stack.artifacts,
    notifier,
    log: stack.log,
    settings: { gitBaseUrl: remotes.gitBaseUrl, scriptTimeoutSeconds: 20, maxAttempts: 3, heartbeatSeconds: 1, workDir, secrets: [] },
  };
}

async function start(request: Omit<JobRequest, "createdBy" | "repositories">, notifier: Notifier, concurrency: number): Promise<{ jobId: string; launcher: LocalLauncher }> {
  const checked = validateJobRequest({ ...request, repositories: names, createdBy: "UTEST" }, "any");
  if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
  const deps = runnerDeps(notifier);
  const launcher = newLocalLauncher({
    concurrency,
    maxAttempts: 1,
    log: stack.log,
    executor: (jobId, index, attempt, signal) => runRepo(deps, { jobId, index, attempt }, signal),
  });
  const jobId = newJobId();
  await submitJob({ store: stack.store, launcher, notifier, log: stack.log }, { jobId, request: checked.request });
  return { jobId, launcher };
}

function countsOf(rows: RepoRow[]) {
  const by = (s: string) => rows.filter((r) => r.status === s).length;
  return { total: rows.length, completed: by("COMPLETED"), noChanges: by("NO_CHANGES"), failed: by("FAILED"), cancelled: by("CANCELLED") };
}

/** Repositories whose remote has the job's branch. */
function withBranch(jobId: string): Set<string> {
  const out = execFileSync("sh", ["-c", `for d in fleet/svc-*.git; do git -C "$d" rev-parse -q --verify "refs/heads/cody/${jobId}" >/dev/null && echo "$d"; done; true`], {
    cwd: remotes.root,
    encoding: "utf8",
  });
  return new Set(out.split("\n").filter(Boolean).map((d) => d.replace(/\.git$/, "")));
}

describe("a 200-repository job", () => {
  it("cancelled in the middle: pending repositories stop at once, running ones at their next step, nothing pushed after the cancel", async () => {
    const notifier = newConsoleNotifier(stack.log);
    // The first 20 repositories change at once; the others wait in their script for a gate file,
    // so at the cancel some runners are certainly mid-way (RUNNING) and cannot have pushed.
    const gate = join(shared.path, "gate");
    const script = `case "$CODY_REPOSITORY" in fleet/svc-00?|fleet/svc-01?) ;; *) i=0; while [ ! -f ${gate} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done;; esac; echo 2 > VERSION`;
    const { jobId, launcher } = await start({ type: "script", name: "Bump", script, createPullRequests: true }, notifier, 8);
    let beforeCancel: RepoRow[] = [];
    for (let i = 0; i < 600; i++) {
      beforeCancel = await stack.store.listRepos(jobId);
      const completed = beforeCancel.filter((r) => r.status === "COMPLETED").length;
      const waiting = beforeCancel.filter((r) => r.status === "RUNNING" && r.index >= 20).length;
      if (completed >= 20 && waiting >= 4) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancelled = await cancelJob({ store: stack.store, launcher, notifier, log: stack.log }, { jobId, by: "UTEST" });
    expect(cancelled.kind).toBe("cancelled");
    writeFileSync(gate, "open\n");
    // What the cancel left: no PENDING row; only rows already PUSHING (or done) may still push.
    const atCancel = await stack.store.listRepos(jobId);
    expect(atCancel.filter((r) => r.status === "PENDING")).toEqual([]);
    const mayPush = new Set(atCancel.filter((r) => r.status === "PUSHING" || r.status === "COMPLETED").map((r) => r.repositoryName));
    // Cloning or changing just before the cancel, and not pushing when it was done.
    const notYetPushing = beforeCancel
      .filter((r) => (r.status === "CLONING" || r.status === "RUNNING") && !mayPush.has(r.repositoryName))
      .map((r) => r.repositoryName);

    await launcher.whenIdle(jobId);
    const job = (await stack.store.getJob(jobId))!;
    const rows = await stack.store.listRepos(jobId);
    const branches = withBranch(jobId);

    expect(rows.every((r) => ["COMPLETED", "CANCELLED"].includes(r.status))).toBe(true);
    expect(job).toMatchObject({ status: "CANCELLED", finishedAt: expect.any(String), counters: countsOf(rows) });
    expect(countsOf(rows).completed).toBeGreaterThanOrEqual(20);
    expect(countsOf(rows).cancelled).toBeGreaterThan(100);
    for (const row of rows) {
      if (branches.has(row.repositoryName)) {
        expect({ repo: row.repositoryName, status: row.status, pushingBeforeCancel: mayPush.has(row.repositoryName) }).toEqual({
          repo: row.repositoryName,
          status: "COMPLETED",
          pushingBeforeCancel: true,
        });
      }
      if (row.status === "CANCELLED") expect(branches.has(row.repositoryName)).toBe(false);
      if (row.status === "COMPLETED") expect(branches.has(row.repositoryName)).toBe(true);
    }
    // Some runners were mid-way (cloning or changing) at the cancel: they stopped at their next step.
    expect(notYetPushing.length).toBeGreaterThan(0);
    for (const name of notYetPushing) {
      expect(branches.has(name)).toBe(false);
      expect(rows.find((r) => r.repositoryName === name)!.status).toBe("CANCELLED");
    }
    expect(branches.size).toBe(countsOf(rows).completed);
  });

  it("reports every repository exactly once when 20 % of Slack calls answer 429", async () => {
    slack = await startFakeSlack();
    const config = stack.config;
    const notifier = newSlackNotifier({
      client: newSlackClient({ slack: { botToken: slack.token, apiUrl: slack.apiUrl } }, { retryConfig: { retries: 20, factor: 1, minTimeout: 1, maxTimeout: 5 } }),
      doc: DynamoDBDocumentClient.from(newDynamoClient(config)),
      tables: { jobsTable: config.jobsTable, reposTable: config.reposTable },
      store: stack.store,
      links: async (job, key) => `https://bot.example.com/links/${job.jobId}/${key}`,
      log: stack.log,
      replyWindowMs: 50,
      rootIntervalMs: 20,
    });
    const { jobId, launcher } = await start(
      // One in ten repositories changes (COMPLETED), one fails, the rest need no change.
      { type: "script", name: "Bump", script: 'test "$CODY_REPOSITORY" != fleet/svc-007 || exit 3; case "$CODY_REPOSITORY" in *0) echo 2 > VERSION;; esac', slack: { teamId: "T1", channel: "C1" } },
      {
        ...notifier,
        // The thread root is posted before the faults start, as the bot would have posted it.
        jobCreated: async (job, signal) => {
          const thread = await notifier.jobCreated(job, signal);
          slack!.setFractions({ rateLimitFraction: 0.2 });
          return thread;
        },
      },
      12,
    );
    await launcher.whenIdle(jobId);
    const job = (await stack.store.getJob(jobId))!;
    const rows = await stack.store.listRepos(jobId);

    expect(job).toMatchObject({ status: "FAILED", finishedAt: expect.any(String), counters: countsOf(rows) });
    expect(countsOf(rows)).toEqual({ total: N, completed: N / 10, noChanges: N - N / 10 - 1, failed: 1, cancelled: 0 });
    expect(slack.calls.filter((c) => c.status === 429).length).toBeGreaterThan(0);
    const counts = new Map<string, number>();
    for (const m of slack.replies("C1", job.slack!.threadTs!)) {
      for (const b of m.blocks as { text?: { text?: string } }[]) {
        const name = /\*(fleet\/[^*]+)\*/.exec(b.text?.text ?? "")?.[1];
        if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
    expect(counts.size).toBe(N);
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const root = slack.messages.find((m) => m.ts === job.slack!.threadTs)!;
    expect(JSON.stringify(root.blocks)).toContain(`${N} / ${N}`);
  });
});
