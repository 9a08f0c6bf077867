/**
 * Claude request efficiency: a scripted 10-turn conversation (view, search, edits, end) against
 * the fake Anthropic Messages API through the real SDK and runner/agent's runAgent, on a real
 * checkout. For each request from turn 3 on: the share of its input (tools, then system, then
 * messages, as the API orders the prompt) that the cache can serve, i.e. that sits before the
 * previous request's last `cache_control` breakpoint (written to the cache by that request),
 * estimated from the request JSON (characters / 4 per token). Baseline: the same requests with
 * only the static breakpoints (tools and system), i.e. without the moving conversation breakpoint.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Config } from "../../core/config/index.ts";
import { newLogger } from "../../core/runtime/index.ts";
import { newModelClient } from "../../runner/agent/client.ts";
import { DEFAULT_AGENT_LIMITS } from "../../runner/agent/limits.ts";
import { runAgent } from "../../runner/agent/loop.ts";
import { message, startFakeAnthropic, text, toolUse, type FakeStep } from "../../test/fakes/anthropic.ts";
import { round } from "./results.ts";

export type CacheResult = {
  /** Mean share of a request's input readable from the previous request's cache entry, turns 3–10. */
  cachedShare: number;
  /** The same with only the tools and system breakpoints (the baseline). */
  baselineCachedShare: number;
  /** Mean share of a request's input before its own last breakpoint (what it writes to the cache). */
  share: number;
  minShare: number;
  baselineShare: number;
  /** Share of each request readable from the previous request's cache entry (prefix up to its breakpoint). */
  readShare: number;
  perTurn: number[];
  requestTokens: number[];
  outcome: string;
};

const EDITOR = "str_replace_based_edit_tool";

export async function benchClaudeCache(): Promise<CacheResult> {
  const root = mkdtempSync(join(tmpdir(), "cody-bench-agent-"));
  const files: Record<string, string> = {
    "src/http.js": "export async function fetchJson(url) {\n  const r = await fetch(url);\n  return r.json();\n}\n",
    "src/users.js": "import { fetchJson } from './http.js';\nexport const users = () => fetchJson('/users');\n",
    "src/orders.js": "import { fetchJson } from './http.js';\nexport const orders = (id) => fetchJson(`/orders/${id}`);\n".repeat(1),
    "README.md": "# shop\n\nUses fetchJson everywhere.\n".repeat(20),
  };
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), body);
  }
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=b@example.com", "-c", "user.name=b", ...args], { cwd: root, stdio: "pipe" });
  git("init", "-q");
  git("add", ".");
  git("commit", "-q", "-m", "init");

  const script: FakeStep[] = [
    message([text("Let me look around."), toolUse(EDITOR, { command: "view", path: "/repo" })]),
    message([toolUse("search", { pattern: "fetchJson" })]),
    message([toolUse(EDITOR, { command: "view", path: "src/http.js" })]),
    message([toolUse(EDITOR, { command: "str_replace", path: "src/http.js", old_str: "export async function fetchJson", new_str: "export async function getJson" })]),
    message([toolUse(EDITOR, { command: "view", path: "src/users.js" })]),
    message([toolUse(EDITOR, { command: "str_replace", path: "src/users.js", old_str: "import { fetchJson }", new_str: "import { getJson }" })]),
    message([toolUse(EDITOR, { command: "str_replace", path: "src/users.js", old_str: "=> fetchJson(", new_str: "=> getJson(" })]),
    message([toolUse(EDITOR, { command: "view", path: "src/orders.js" })]),
    message([toolUse(EDITOR, { command: "str_replace", path: "src/orders.js", old_str: "fetchJson", new_str: "getJson" })]),
    message([text("Renamed fetchJson to getJson in src/http.js, src/users.js and src/orders.js.")]),
  ];
  const fake = await startFakeAnthropic(script);
  try {
    const client = newModelClient({ anthropic: { apiKey: "sk-ant-bench-0000000000000000", baseUrl: fake.url } } as Config, { timeoutMs: 10_000 });
    const r = await runAgent(
      { client, log: newLogger({ level: "silent" }) },
      { root, repository: "bench/shop", instructions: "Rename the deprecated fetchJson helper to getJson everywhere.", model: "claude-sonnet-5-5", limits: DEFAULT_AGENT_LIMITS },
      new AbortController().signal,
    );
    const bodies = fake.messageRequests().map((q) => q.body as Record<string, unknown>);
    if (bodies.length !== 10) throw new Error(`claude cache: expected 10 requests, got ${bodies.length} (${r.kind})`);
    const measured = bodies.map(measure);
    const from3 = measured.slice(2);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const read = from3.map((m, i) => measured[i + 1]!.prefixChars / m.totalChars);
    const mean = (xs: number[]) => sum(xs) / xs.length;
    return {
      cachedShare: round(mean(read), 3),
      baselineCachedShare: round(mean(from3.map((m, i) => measured[i + 1]!.staticChars / m.totalChars)), 3),
      share: round(sum(from3.map((m) => m.prefixChars)) / sum(from3.map((m) => m.totalChars)), 3),
      minShare: round(Math.min(...from3.map((m) => m.prefixChars / m.totalChars)), 3),
      baselineShare: round(sum(from3.map((m) => m.staticChars)) / sum(from3.map((m) => m.totalChars)), 3),
      readShare: round(Math.min(...read), 3),
      perTurn: measured.map((m) => round(m.prefixChars / m.totalChars, 3)),
      requestTokens: measured.map((m) => Math.round(m.totalChars / 4)),
      outcome: r.kind,
    };
  } finally {
    await fake.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The prompt of a request in the API's order (tools, system, messages) as JSON without the
 * markers; `prefixChars` ends after the block carrying the last breakpoint, `staticChars` after
 * the last breakpoint among tools and system.
 */
function measure(body: Record<string, unknown>): { totalChars: number; prefixChars: number; staticChars: number } {
  const parts = [...(body.tools as unknown[]), ...(body.system as unknown[]), ...(body.messages as { content: unknown[] }[]).flatMap((m) => m.content)];
  const staticCount = (body.tools as unknown[]).length + (body.system as unknown[]).length;
  let total = 0;
  let prefix = 0;
  let staticPrefix = 0;
  parts.forEach((p, i) => {
    const { cache_control: marker, ...rest } = p as { cache_control?: unknown };
    total += JSON.stringify(rest).length;
    if (marker) {
      prefix = total;
      if (i < staticCount) staticPrefix = total;
    }
  });
  return { totalChars: total, prefixChars: prefix, staticChars: staticPrefix };
}
