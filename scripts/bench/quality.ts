/**
 * Change quality's costs (issue 19), runnable alone (`BENCH_ONLY=quality make bench`): a Claude
 * job over a few repositories through the real runner (runRepo in process, the Anthropic SDK
 * against the fake Messages API, dynalite, s3rver, real git remotes), each request's usage
 * estimated from its JSON size (characters / 4 per token, output from the scripted reply), so
 * the judge's share reflects the real size of its request (instructions + diff + verify).
 * - judge: the share of the job's tokens that the scope judge's requests take, and the job's
 *   tokens with the judge against the same job with `--no-judge` (the baseline);
 * - budget: DynamoDB requests of the job with a cap against without one (a read before and an
 *   ADD after every model request);
 * - healing: one healing attempt (agent on the PR's branch, verify-less, judge, one commit
 *   pushed without force) against the original attempt of the same repository, wall time and tokens.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../core/config/index.ts";
import { newJobId, newJobRows, validateJobRequest, type JobRequest, type RepoRow, type Usage } from "../../core/jobs/index.ts";
import { newLogger } from "../../core/runtime/index.ts";
import { newDynamoClient, newStore, type RequestCounter } from "../../core/jobs/index.ts";
import { runRepo } from "../../runner/run-repo.ts";
import { newRunnerDeps } from "../../runner/wiring.ts";
import { message, startFakeAnthropic, text, toolUse, type FakeReply, type RecordedRequest } from "../../test/fakes/anthropic.ts";
import { EmbeddedStack } from "../../environment/index.ts";
import { makeBareRepo } from "../example-repos.ts";

export type QualityResult = {
  /** Judge tokens / all tokens of the judged job. */
  judgeTokenShare: number;
  /** All tokens with the judge / without it. */
  judgeTokensRatio: number;
  /** DynamoDB requests of the job with a cap / without. */
  budgetRequestsRatio: number;
  /** Extra DynamoDB requests per model request with a cap. */
  budgetExtraPerModelRequest: number;
  /** Wall time of one healing attempt / the original attempt. */
  healWallRatio: number;
  /** Tokens of one healing attempt / the original attempt. */
  healTokensRatio: number;
  repos: number;
};

const EDITOR = "str_replace_based_edit_tool";
const SOURCE = Array.from({ length: 40 }, (_, i) => `export function handler${i}(req) {\n  return fetchJson(\`/api/${i}/\${req.id}\`);\n}\n`).join("\n");

/** Tokens each request was answered with (what the runner counts). */
const sent = new WeakMap<RecordedRequest, number>();

/** Usage of a request: its JSON / 4 as input (system and tools read from cache after the first turn), the reply's text / 4 as output. */
function usageFor(req: RecordedRequest, reply: unknown[]): FakeReply["body"] & object {
  const system = JSON.stringify(req.body.system ?? "").length + JSON.stringify(req.body.tools ?? []).length;
  const rest = JSON.stringify(req.body.messages).length;
  const first = req.body.messages.length === 1;
  const usage = {
    input_tokens: Math.round(rest / 4),
    output_tokens: Math.max(20, Math.round(JSON.stringify(reply).length / 4)),
    cache_read_input_tokens: first ? 0 : Math.round(system / 4),
    cache_creation_input_tokens: first ? Math.round(system / 4) : 0,
  };
  sent.set(req, usage.input_tokens + usage.output_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens);
  return usage;
}

/** A 6-turn conversation: view, two searches, two edits, a summary; asked to heal, one edit and a summary. */
function claude(req: RecordedRequest): FakeReply {
  const results = req.body.messages.filter((m: { role: string; content: unknown }) => m.role === "user" && JSON.stringify(m.content).includes("tool_result")).length;
  const healing = JSON.stringify(req.body.system).includes("failing_checks");
  const plan: unknown[][] = healing
    ? [[toolUse(EDITOR, { command: "str_replace", path: "src/api.js", old_str: "handler0(req)", new_str: "handler0(req, opts)" })], [text("Added the missing parameter.")]]
    : [
        [text("Looking around."), toolUse(EDITOR, { command: "view", path: "src/api.js" })],
        [toolUse("search", { pattern: "fetchJson" })],
        [toolUse("search", { pattern: "handler1" })],
        [toolUse(EDITOR, { command: "str_replace", path: "src/api.js", old_str: "handler1(req) {\n  return fetchJson", new_str: "handler1(req) {\n  return http.get" })],
        [toolUse(EDITOR, { command: "str_replace", path: "src/api.js", old_str: "handler2(req) {\n  return fetchJson", new_str: "handler2(req) {\n  return http.get" })],
        [text("Replaced fetchJson with http.get in handler1 and handler2.")],
      ];
  const content = plan[Math.min(results, plan.length - 1)]!;
  const reply = message(content);
  (reply.body as { usage: unknown }).usage = usageFor(req, content);
  return reply;
}

function judgeReply(req: RecordedRequest): FakeReply {
  const content = [toolUse("verdict", { decision: "approve", reason: "Only the asked call sites changed." })];
  const reply = message(content);
  (reply.body as { usage: unknown }).usage = usageFor(req, content);
  return reply;
}

const total = (u: Usage | undefined) => (u ? u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens : 0);
const tokensOf = (reqs: RecordedRequest[]) => reqs.reduce((n, r) => n + (sent.get(r) ?? 0), 0);

/** Runs the three measurements on an in-memory stack; `repos` repositories per job. */
export async function benchQuality(opts: { repos?: number } = {}): Promise<QualityResult> {
  const repos = opts.repos ?? 4;
  const dir = mkdtempSync(join(tmpdir(), "cody-bench-quality-"));
  const stack = await EmbeddedStack.start({ inMemory: true, env: {} });
  const anthropic = await startFakeAnthropic(claude, { judge: judgeReply });
  try {
    const names = Array.from({ length: repos * 4 }, (_, i) => `bench/q${i}`);
    for (const n of names) makeBareRepo(join(dir, "remotes"), n, { "src/api.js": SOURCE, "README.md": "# api\n" });
    const env = { ...stack.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", GIT_BASE_URL: `file://${join(dir, "remotes")}`, ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: "sk-ant-api03-" + "q".repeat(40) };
    const config = loadConfig(env);
    const log = newLogger({ level: "silent" });
    const counter: RequestCounter = { count: 0 };
    const store = newStore(config, newDynamoClient(config, counter));
    const deps = newRunnerDeps(config, log, { dynamoCounter: counter }, env);
    let next = 0;
    const runJob = async (request: Partial<JobRequest>) => {
      const repositories = names.slice(next, next + repos);
      next += repos;
      const checked = validateJobRequest({ type: "code-pattern-update", prompt: "Replace fetchJson with http.get in handler1 and handler2", repositories, createdBy: "bench", ...request } as JobRequest, "any");
      if (checked.kind !== "ok") throw new Error(JSON.stringify(checked.errors));
      const jobId = newJobId();
      const { job, repos: rows } = newJobRows(jobId, checked.request, new Date());
      await store.createJob(job, rows);
      const before = { dynamo: counter.count, agent: anthropic.messageRequests().length, judge: anthropic.judgeRequests().length };
      const started = performance.now();
      for (let i = 0; i < repositories.length; i++) await runRepo(deps, { jobId, index: i }, new AbortController().signal);
      const ms = performance.now() - started;
      const agentReqs = anthropic.messageRequests().slice(before.agent);
      const judgeReqs = anthropic.judgeRequests().slice(before.judge);
      const rowsAfter = await store.listRepos(jobId);
      if (rowsAfter.some((r) => r.status !== "COMPLETED")) throw new Error(`bench quality: ${rowsAfter.map((r) => `${r.status} ${r.error ?? ""}`).join("; ")}`);
      return { jobId, ms, rows: rowsAfter, dynamo: counter.count - before.dynamo, agentReqs, agentTokens: tokensOf(agentReqs), judgeTokens: tokensOf(judgeReqs), modelRequests: agentReqs.length + judgeReqs.length };
    };

    const judged = await runJob({});
    const unjudged = await runJob({ judge: false });
    const rowTokens = judged.rows.reduce((n, r) => n + total(r.usage), 0);
    if (rowTokens !== judged.agentTokens + judged.judgeTokens) throw new Error(`bench quality: row usage ${rowTokens} ≠ requests ${judged.agentTokens + judged.judgeTokens}`);

    const capped = await runJob({ judge: false, budgetUsd: 1000 });
    const budgetRequestsRatio = capped.dynamo / unjudged.dynamo;
    const budgetExtraPerModelRequest = (capped.dynamo - unjudged.dynamo) / capped.modelRequests;

    // Healing: one attempt on a branch the first (unjudged, branch-pushing) job made.
    const pushed = await runJob({ judge: false, createPullRequests: true });
    const row: RepoRow = pushed.rows[0]!;
    await store.setHealContext(pushed.jobId, row.repositoryName, "## test (check run)\n- src/api.test.js:3 [failure] handler0 expects an options argument");
    await store.resetRepo(row);
    await store.reopenJob(pushed.jobId);
    const agentBefore = anthropic.messageRequests().length;
    const judgeBefore = anthropic.judgeRequests().length;
    const healStarted = performance.now();
    await runRepo(deps, { jobId: pushed.jobId, index: row.index }, new AbortController().signal);
    const healMs = performance.now() - healStarted;
    const healed = (await store.listRepos(pushed.jobId)).find((r) => r.repositoryName === row.repositoryName)!;
    if (healed.heals?.at(-1)?.outcome !== "pushed") throw new Error(`bench quality: heal ${JSON.stringify(healed.heals)}`);
    const healTokens = tokensOf(anthropic.messageRequests().slice(agentBefore)) + tokensOf(anthropic.judgeRequests().slice(judgeBefore));
    return {
      judgeTokenShare: judged.judgeTokens / (judged.agentTokens + judged.judgeTokens),
      judgeTokensRatio: (judged.agentTokens + judged.judgeTokens) / unjudged.agentTokens,
      budgetRequestsRatio,
      budgetExtraPerModelRequest,
      healWallRatio: healMs / (pushed.ms / repos),
      healTokensRatio: healTokens / (pushed.agentTokens / repos),
      repos,
    };
  } finally {
    await anthropic.close();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
