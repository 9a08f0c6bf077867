/**
 * The agent loop end to end: the real Anthropic SDK against the fake Messages API, real tools on
 * real temporary git repositories.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Config } from "../core/config/index.ts";
import { newLogger } from "../core/runtime/index.ts";
import { newClaudeAgent } from "../runner/agent/claude-agent.ts";
import { newModelClient } from "../runner/agent/client.ts";
import { DEFAULT_AGENT_LIMITS, type AgentLimits } from "../runner/agent/limits.ts";
import { runAgent, type AgentDeps, type AgentResult, type MessagesClient } from "../runner/agent/loop.ts";
import { redactTranscript } from "../runner/agent/transcript.ts";
import { runVerify } from "../runner/verify.ts";
import {
  apiError,
  message,
  overloaded,
  rateLimited,
  startFakeAnthropic,
  text,
  toolUse,
  type FakeAnthropic,
  type FakeStep,
  type RecordedRequest,
} from "./fakes/anthropic.ts";

const API_KEY = "sk-ant-api03-testkeyTESTKEY0123456789abcdef";
const EDITOR = "str_replace_based_edit_tool";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), prefix)));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A git repository with `files`, committed. */
async function repoWith(files: Record<string, string>): Promise<string> {
  const root = await tempDir("cody-agent-repo-");
  for (const [name, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), body);
  }
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: root, stdio: "pipe" });
  git("init", "-q");
  git("add", ".");
  git("commit", "-q", "-m", "init");
  return root;
}

type Harness = { fake: FakeAnthropic; deps: AgentDeps; logs: Record<string, unknown>[]; sleeps: number[]; clock: { t: number } };

async function harness(script: FakeStep[] | ((req: RecordedRequest, all: RecordedRequest[]) => ReturnType<typeof message>)): Promise<Harness> {
  const fake = await startFakeAnthropic(script);
  cleanups.push(() => fake.close());
  const config = { anthropic: { apiKey: API_KEY, baseUrl: fake.url } } as Config;
  const client: MessagesClient = newModelClient(config, { timeoutMs: 10_000 });
  const logs: Record<string, unknown>[] = [];
  const log = newLogger({ level: "info", secrets: [API_KEY] }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const sleeps: number[] = [];
  const clock = { t: 1_000_000 };
  const deps: AgentDeps = {
    client,
    log,
    now: () => clock.t,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.t += ms;
    },
  };
  return { fake, deps, logs, sleeps, clock };
}

function limits(overrides: Partial<AgentLimits> = {}): AgentLimits {
  return { ...DEFAULT_AGENT_LIMITS, ...overrides };
}

function run(h: Harness, root: string, opts: { limits?: Partial<AgentLimits>; verify?: (s: AbortSignal) => Promise<{ ok: boolean; output: string }>; signal?: AbortSignal } = {}): Promise<AgentResult> {
  return runAgent(
    h.deps,
    {
      root,
      repository: "acme/widgets",
      instructions: "Replace fetchJson with http.get.",
      model: "claude-sonnet-5-5",
      limits: limits(opts.limits),
      ...(opts.verify ? { verify: opts.verify } : {}),
    },
    opts.signal ?? new AbortController().signal,
  );
}

/** The tool_result blocks of the last user message of a request. */
function toolResults(req: RecordedRequest): { tool_use_id: string; content: string; is_error?: boolean }[] {
  const last = req.body.messages.at(-1);
  return last.content.filter((b: { type: string }) => b.type === "tool_result");
}

describe("runAgent", () => {
  it("makes a one-file edit and returns Claude's summary, usage and cost", async () => {
    const root = await repoWith({ "src/a.ts": "export const a = fetchJson('/a');\n" });
    const h = await harness([
      message([text("Let me look."), toolUse(EDITOR, { command: "view", path: "/repo/src/a.ts" })]),
      message([toolUse(EDITOR, { command: "str_replace", path: "src/a.ts", old_str: "fetchJson('/a')", new_str: "http.get('/a')" })]),
      message([text("Replaced fetchJson with http.get in src/a.ts.")]),
    ]);
    const result = await run(h, root);
    expect(result).toMatchObject({ kind: "done", summary: "Replaced fetchJson with http.get in src/a.ts." });
    expect(await readFile(path.join(root, "src/a.ts"), "utf8")).toBe("export const a = http.get('/a');\n");
    expect(result.usage).toEqual({ inputTokens: 300, outputTokens: 150, cacheReadTokens: 3000, cacheWriteTokens: 600 });
    // 300×3 + 150×15 + 600×3.75 + 3000×0.3 dollars per million tokens
    expect(result.costUsd).toBeCloseTo(0.0063, 6);
    const reqs = h.fake.messageRequests();
    expect(reqs).toHaveLength(3);
    expect(toolResults(reqs[1]!)[0]).toMatchObject({ content: "     1\texport const a = fetchJson('/a');" });
    expect(reqs[0]!.body.system[0].text).toContain("Replace fetchJson with http.get.");
    expect(reqs[0]!.body.messages[0].content[0].text).toContain("acme/widgets");
    expect(reqs[0]!.body.tools.map((t: { name: string; type?: string }) => t.type ?? t.name)).toEqual(["text_editor_20250728", "search"]);
    const toolLines = h.logs.filter((l) => l.msg === "tool call finished");
    expect(toolLines.map((l) => [l.tool, l.command, l.ok])).toEqual([
      [EDITOR, "view", true],
      [EDITOR, "str_replace", true],
    ]);
    expect(result.transcript.turns.map((t) => t.stopReason)).toEqual(["tool_use", "tool_use", "end_turn"]);
  });

  it("makes a multi-file edit found with search", async () => {
    const root = await repoWith({
      "src/a.ts": "export const a = fetchJson('/a');\n",
      "lib/b.ts": "import x from 'y';\nexport const b = fetchJson('/b');\n",
      "README.md": "nothing here\n",
    });
    const h = await harness([
      message([toolUse("search", { pattern: "fetchJson\\(" })]),
      (req) => {
        const found = toolResults(req)[0]!.content;
        // Claude edits exactly the files the search reported.
        const edits = found.split("\n").map((line) => {
          const [file, , ...rest] = line.split(":");
          const call = rest.join(":").match(/fetchJson\('[^']*'\)/)![0];
          return toolUse(EDITOR, { command: "str_replace", path: file!, old_str: call, new_str: call.replace("fetchJson", "http.get") });
        });
        return message(edits);
      },
      message([text("Moved both calls to http.get.")]),
    ]);
    const result = await run(h, root);
    expect(result.kind).toBe("done");
    expect(await readFile(path.join(root, "src/a.ts"), "utf8")).toBe("export const a = http.get('/a');\n");
    expect(await readFile(path.join(root, "lib/b.ts"), "utf8")).toBe("import x from 'y';\nexport const b = http.get('/b');\n");
    const results = toolResults(h.fake.messageRequests()[2]!);
    expect(results).toHaveLength(2);
    expect(results.every((r) => r.is_error === undefined)).toBe(true);
  });

  it("answers path escapes as tool errors and touches nothing outside the workspace", async () => {
    const root = await repoWith({ "a.txt": "inside\n" });
    const outside = await tempDir("cody-agent-outside-");
    await writeFile(path.join(outside, "keep.txt"), "outside-content\n");
    await symlink("/", path.join(root, "slash"));
    await symlink(outside, path.join(root, "away"));
    const gitConfig = await readFile(path.join(root, ".git/config"), "utf8");
    const h = await harness([
      message([
        toolUse(EDITOR, { command: "view", path: "../../etc/passwd" }),
        toolUse(EDITOR, { command: "view", path: "/etc/passwd" }),
        toolUse(EDITOR, { command: "view", path: `${outside}/keep.txt` }),
        toolUse(EDITOR, { command: "view", path: "slash/etc/passwd" }),
        toolUse(EDITOR, { command: "create", path: "away/planted.txt", file_text: "x" }),
        toolUse(EDITOR, { command: "create", path: ".git/config", file_text: "[url]\n" }),
        toolUse(EDITOR, { command: "str_replace", path: "/repo/.git/config", old_str: "[core]", new_str: "[x]" }),
        toolUse("search", { pattern: "root", path: "/etc" }),
        toolUse("bash", { command: "cat /etc/passwd" }),
      ]),
      message([text("Nothing to do.")]),
    ]);
    const result = await run(h, root);
    expect(result.kind).toBe("done");
    const results = toolResults(h.fake.messageRequests()[1]!);
    expect(results).toHaveLength(9);
    for (const r of results) {
      expect(r.is_error, r.content).toBe(true);
      expect(r.content).not.toMatch(/root:|outside-content/);
    }
    expect(results.at(-1)!.content).toMatch(/unknown tool "bash"/);
    expect(await readdir(outside)).toEqual(["keep.txt"]);
    expect(await readFile(path.join(root, ".git/config"), "utf8")).toBe(gitConfig);
    expect(h.logs.filter((l) => l.msg === "tool call finished" && l.ok === false)).toHaveLength(9);
  });

  it("retries a 529 overload and then succeeds", async () => {
    const root = await repoWith({ "a.txt": "x\n" });
    const h = await harness([overloaded(), message([text("Done.")])]);
    const result = await run(h, root);
    expect(result).toMatchObject({ kind: "done", summary: "Done." });
    expect(h.fake.messageRequests()).toHaveLength(2);
    expect(h.sleeps).toHaveLength(1);
    expect(result.transcript.turns[0]!.retries).toEqual(["the Claude API is overloaded (529)"]);
  });

  it("honours retry-after on a 429", async () => {
    const root = await repoWith({ "a.txt": "x\n" });
    const h = await harness([rateLimited(7), rateLimited(2), message([text("Done.")])]);
    const result = await run(h, root);
    expect(result.kind).toBe("done");
    expect(h.fake.messageRequests()).toHaveLength(3);
    expect(h.sleeps).toEqual([7000, 2000]);
  });

  it.for([
    {
      name: "a 429 that says the spend limit is reached is not retried",
      replies: [apiError(429, "rate_limit_error", "You have reached your specified API usage limits.", { "retry-after": "1" })],
      want: /spend limit reached/,
      requests: 1,
    },
    {
      name: "a retry-after past the time limit fails at once",
      replies: [rateLimited(3600)],
      want: /rate limited by the Claude API \(429\); waiting 3600s more would pass the time limit/,
      requests: 1,
    },
    {
      name: "overload that outlasts the retries fails",
      replies: [overloaded(), overloaded(), overloaded()],
      want: /overloaded \(529\); gave up after 3 attempts/,
      requests: 3,
      limits: { maxRetries: 2 },
    },
    {
      name: "a rejected key fails without retry",
      replies: [apiError(401, "authentication_error", "invalid x-api-key")],
      want: /refused the credentials \(401\)/,
      requests: 1,
    },
    { name: "a refusal fails", replies: [message([text("I can't help with that.")], { stop_reason: "refusal" })], want: /refused the request/, requests: 1 },
    {
      name: "an exceeded context window fails",
      replies: [message([text("…")], { stop_reason: "model_context_window_exceeded" })],
      want: /context window/,
      requests: 1,
    },
    {
      name: "the token limit fails the run",
      replies: [message([toolUse(EDITOR, { command: "view", path: "a.txt" })], { usage: { input_tokens: 5000 } })],
      want: /token limit of 2000 reached \(6250 used\)/,
      requests: 1,
      limits: { maxTotalTokens: 2000 },
    },
  ])("$name", async (tc) => {
    const root = await repoWith({ "a.txt": "x\n" });
    const h = await harness(tc.replies);
    const result = await run(h, root, { limits: tc.limits ?? {} });
    expect(result.kind).toBe("failed");
    expect(result.kind === "failed" && result.reason).toMatch(tc.want);
    expect(h.fake.messageRequests()).toHaveLength(tc.requests);
    expect(result.transcript.outcome).toMatchObject({ kind: "failed" });
  });

  it("stops at the turn limit with a clear reason", async () => {
    const root = await repoWith({ "a.txt": "x\n" });
    const h = await harness(() => message([toolUse(EDITOR, { command: "view", path: "a.txt" })]));
    const result = await run(h, root, { limits: { maxTurns: 3 } });
    expect(result).toMatchObject({ kind: "failed", reason: "turn limit of 3 reached before Claude finished" });
    expect(h.fake.messageRequests()).toHaveLength(3);
  });

  it("continues after max_tokens and pause_turn", async () => {
    const root = await repoWith({ "a.txt": "x\n" });
    const h = await harness([
      message([text("Part one")], { stop_reason: "max_tokens" }),
      message([toolUse(EDITOR, { command: "create", path: "big.txt", file_text: "cut" })], { stop_reason: "max_tokens" }),
      message([text("thinking…")], { stop_reason: "pause_turn" }),
      message([text("All done.")]),
    ]);
    const result = await run(h, root);
    expect(result).toMatchObject({ kind: "done", summary: "All done." });
    const reqs = h.fake.messageRequests();
    expect(reqs[1]!.body.messages.at(-1).content[0].text).toMatch(/cut off at the output limit/);
    const cut = toolResults(reqs[2]!)[0]!;
    expect(cut.is_error).toBe(true);
    expect(cut.content).toMatch(/was not run/);
    await expect(readFile(path.join(root, "big.txt"))).rejects.toThrow();
    expect(reqs[3]!.body.messages.at(-1)).toMatchObject({ role: "assistant", content: [{ type: "text", text: "thinking…" }] });
  });

  it("lets Claude fix failing checks with run_checks", async () => {
    const root = await repoWith({ "src/a.ts": "export const a = fetchJson('/a');\n", "check.sh": "! grep -rn fetchJson src && echo 'all good'\n" });
    const home = await tempDir("cody-agent-home-");
    const verify = (s: AbortSignal) => runVerify("sh check.sh", root, { timeoutSeconds: 30, env: process.env, home }, s);
    const h = await harness([
      message([toolUse("run_checks", {})]),
      message([toolUse(EDITOR, { command: "str_replace", path: "src/a.ts", old_str: "fetchJson", new_str: "http.get" })]),
      message([toolUse("run_checks", {})]),
      message([text("Fixed.")]),
    ]);
    const result = await run(h, root, { verify });
    expect(result.kind).toBe("done");
    const reqs = h.fake.messageRequests();
    expect(reqs[0]!.body.tools.map((t: { name: string }) => t.name)).toContain("run_checks");
    expect(toolResults(reqs[1]!)[0]!.content).toMatch(/^Checks FAILED\.\nsrc\/a\.ts:1:export const a = fetchJson/);
    expect(toolResults(reqs[3]!)[0]!.content).toBe("Checks passed.\nall good\n");
    expect(await verify(new AbortController().signal)).toMatchObject({ ok: true });
  });

  it("puts cache breakpoints on the tools, the system prompt and the last message of every request", async () => {
    const root = await repoWith({ "a.txt": "x\n" });
    const h = await harness([
      message([toolUse(EDITOR, { command: "view", path: "a.txt" })]),
      message([toolUse("search", { pattern: "x" })]),
      message([text("Done.")]),
    ]);
    await run(h, root);
    const reqs = h.fake.messageRequests();
    expect(reqs).toHaveLength(3);
    for (const req of reqs) {
      const b = req.body;
      expect(b.tools.at(-1).cache_control).toEqual({ type: "ephemeral" });
      expect(b.system.at(-1).cache_control).toEqual({ type: "ephemeral" });
      expect(b.messages.at(-1).content.at(-1).cache_control).toEqual({ type: "ephemeral" });
      const marked = b.messages.flatMap((m: { content: { cache_control?: unknown }[] }) => m.content).filter((c: { cache_control?: unknown }) => c.cache_control);
      expect(marked).toHaveLength(1);
    }
  });

  it("keeps credentials and token-shaped strings out of the transcript", async () => {
    const leaked = "ghp_" + "A".repeat(36);
    const root = await repoWith({ "config.js": `module.exports = { token: "${leaked}" };\n` });
    const h = await harness([message([toolUse(EDITOR, { command: "view", path: "config.js" })]), message([text(`Done (saw ${leaked}).`)])]);
    const result = await run(h, root);
    expect(result.kind).toBe("done");
    // The key did go over the wire and the token was read: the redaction below is what removes them.
    expect(JSON.stringify(h.fake.messageRequests()[0]!.headers)).toContain(API_KEY);
    expect(JSON.stringify(result.transcript)).toContain(leaked);
    const json = redactTranscript(result.transcript, [API_KEY]);
    expect(json).not.toContain(leaked);
    expect(json).not.toContain(API_KEY);
    expect(json).not.toMatch(/sk-ant-|ghp_/);
    const parsed = JSON.parse(json);
    expect(parsed).toMatchObject({ version: 1, repository: "acme/widgets", model: "claude-sonnet-5-5", outcome: { kind: "done" } });
    expect(parsed.turns).toHaveLength(2);
    expect(parsed.turns[0].usage).toEqual({ inputTokens: 100, outputTokens: 50, cacheReadTokens: 1000, cacheWriteTokens: 200 });
    expect(parsed.messages).toHaveLength(4);
    expect(JSON.stringify(h.logs)).not.toContain(API_KEY);
  });

  it("cuts long tool results with a visible note", async () => {
    const root = await repoWith({ "long.txt": "line of text\n".repeat(200) });
    const h = await harness([message([toolUse(EDITOR, { command: "view", path: "long.txt" })]), message([text("Done.")])]);
    await run(h, root, { limits: { maxToolResultBytes: 300 } });
    const content = toolResults(h.fake.messageRequests()[1]!)[0]!.content;
    expect(Buffer.byteLength(content)).toBeLessThan(450);
    expect(content).toMatch(/\[output truncated: \d+ of \d+ bytes not shown; view a smaller range or narrow the search\]$/);
  });

  it("ends as aborted when the run is cancelled", async () => {
    const root = await repoWith({ "a.txt": "x\n" });
    const ac = new AbortController();
    const h = await harness((_req, all) => {
      if (all.length === 2) ac.abort();
      return message([toolUse(EDITOR, { command: "view", path: "a.txt" })]);
    });
    const result = await run(h, root, { signal: ac.signal });
    expect(result.kind).toBe("aborted");
    expect(h.fake.messageRequests().length).toBeLessThanOrEqual(2);
  });

  it("newClaudeAgent hands back the transcript as redacted JSON", async () => {
    const root = await repoWith({ "a.txt": "x\n" });
    const h = await harness([message([text(`Done, key ${API_KEY}.`)])]);
    const agent = newClaudeAgent({ client: h.deps.client, log: h.deps.log, secrets: [API_KEY] }, { model: "claude-sonnet-5-5", limits: limits() });
    const r = await agent({ root, repository: "acme/widgets", instructions: "Do it." }, new AbortController().signal);
    expect(r.kind).toBe("done");
    expect(r.transcript).not.toContain(API_KEY);
    expect(JSON.parse(r.transcript).outcome.kind).toBe("done");
    expect(r.usage.inputTokens).toBe(100);
  });
});
