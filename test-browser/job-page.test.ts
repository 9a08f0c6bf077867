/**
 * The job page in a real browser (Debian's chromium through playwright-core): a real local
 * Claude job (runner in this process against the fake Anthropic server, real git remotes,
 * dynalite and s3rver) served by `cody web`'s server. The page is opened while the job runs;
 * it draws the chart, updates itself as the held-back repositories finish, filters to FAILED,
 * opens a diff and a conversation, and logs no console error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, secretValues } from "../core/config/index.ts";
import { newJobId } from "../core/jobs/index.ts";
import { newLocalLauncher } from "../core/launch/index.ts";
import { newConsoleNotifier } from "../core/jobs/index.ts";
import { submitJob } from "../core/launch/index.ts";
import { runRepo } from "../runner/run-repo.ts";
import { newRunnerDeps } from "../runner/wiring.ts";
import { derivePageKey, pageUrl } from "../bot/web/page-token.ts";
import { startPageServer } from "../scripts/cli-web.ts";
import { message, startFakeAnthropic, text, toolUse, type FakeAnthropic, type RecordedRequest } from "../test/fakes/anthropic.ts";
import { startTestStack, tempRemotes, type TestRemotes, type TestStack } from "../test/support/stack.ts";
import { openBrowser, withScreenshot, type Browser } from "./browser.ts";

const API_KEY = "sk-ant-api03-" + "b".repeat(40);
const SECRET = "browser-test-signing-secret-0123";
let stack: TestStack;
let remotes: TestRemotes;
let anthropic: FakeAnthropic;
let server: Awaited<ReturnType<typeof startPageServer>>;
let browser: Browser;

function claude(req: RecordedRequest) {
  const messages = req.body.messages as { role: string; content: unknown }[];
  const last = messages[messages.length - 1]!;
  const answered = Array.isArray(last.content) && (last.content as { type: string }[]).some((b) => b.type === "tool_result");
  if (!answered) {
    return message([text("I will rename the helper."), toolUse("str_replace_based_edit_tool", { command: "str_replace", path: "src/http.js", old_str: "fetchJson", new_str: "getJson" })], {
      stop_reason: "tool_use",
      usage: { input_tokens: 1200, output_tokens: 80 },
    });
  }
  return message([text("Renamed fetchJson to getJson in src/http.js.")], { stop_reason: "end_turn", usage: { input_tokens: 60, output_tokens: 30 } });
}

beforeAll(async () => {
  remotes = tempRemotes();
  for (let i = 0; i < 5; i++) remotes.make(`acme/svc-${i}`, { "src/http.js": "export function fetchJson(url) { return fetch(url); }\n" });
  remotes.makeEmpty("acme/empty");
  stack = await startTestStack({ GIT_BASE_URL: remotes.gitBaseUrl, ALLOWED_REPOSITORIES: "acme/*", LINK_SIGNING_SECRET: SECRET });
  anthropic = await startFakeAnthropic(claude);
  server = await startPageServer({ pageKey: derivePageKey(SECRET), store: stack.store, artifacts: stack.artifacts, secrets: [SECRET], log: stack.log }, 0);
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await anthropic?.close();
  await stack?.stop();
  remotes?.cleanup();
});

describe("the job page in chromium", () => {
  it("draws the chart, updates while the job runs, filters to FAILED, opens a diff and a conversation, without console errors", async () => {
    const env = { ...process.env, ...stack.env, ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: API_KEY, LOG_LEVEL: "silent" };
    const config = loadConfig(env);
    const runnerDeps = newRunnerDeps(config, stack.log, {}, env);
    // The last two repositories wait until the page has been seen mid-way.
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    const launcher = newLocalLauncher({
      concurrency: 4,
      maxAttempts: 1,
      log: stack.log,
      executor: async (jobId, index, attempt, signal) => {
        if (index >= 4) await held;
        return runRepo(runnerDeps, { jobId, index, attempt }, signal);
      },
    });
    const jobId = newJobId();
    const repositories = ["acme/svc-0", "acme/svc-1", "acme/empty", "acme/svc-2", "acme/svc-3", "acme/svc-4"];
    const created = await submitJob(
      { store: stack.store, launcher, notifier: newConsoleNotifier(stack.log), log: stack.log },
      { jobId, request: { type: "code-pattern-update", name: "Rename fetchJson", prompt: "Rename fetchJson to getJson", repositories, createdBy: "cli:test" } },
    );
    expect(secretValues(config)).toContain(API_KEY);
    // Wait until the first four have ended (the last two are held).
    for (let i = 0; i < 600; i++) {
      const j = await stack.store.getJob(jobId);
      if (j && j.counters.completed + j.counters.failed >= 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = pageUrl(server.base, derivePageKey(SECRET), created.job);
    const page = browser.page;

    await withScreenshot(page, "job-page-running", async () => {
      await page.goto(url);
      await expect.poll(() => page.locator("#live-state").textContent()).toBe("updating live");
      const d = await page.locator("svg.burndown path.series.s-completed").getAttribute("d");
      expect(d?.match(/V/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
      expect(await page.locator("svg.burndown path.series").count()).toBeGreaterThanOrEqual(3);
      expect(await page.locator("#repos tbody tr").count()).toBe(6);
      expect(await page.locator('#repos tbody tr[data-name="acme/svc-4"]').getAttribute("data-status")).toBe("PENDING");
      await page.evaluate("window.codyMarker = 42");
    });

    await withScreenshot(page, "job-page-live-update", async () => {
      release();
      await expect.poll(() => page.locator('#repos tbody tr[data-name="acme/svc-4"]').getAttribute("data-status"), { timeout: 60_000 }).toBe("COMPLETED");
      await expect.poll(() => page.locator("#live-state").textContent(), { timeout: 30_000 }).toBe("final");
      // Updated in place: the page was not reloaded.
      expect(await page.evaluate("window.codyMarker")).toBe(42);
    });

    await withScreenshot(page, "job-page-filter", async () => {
      await page.selectOption("#f-status", "FAILED");
      const visible = page.locator("#repos tbody tr:not([hidden])");
      await expect.poll(() => visible.count()).toBe(1);
      expect(await visible.first().getAttribute("data-name")).toBe("acme/empty");
      expect(await page.locator("#shown").textContent()).toBe("showing 1 of 6 repositories");
      await page.selectOption("#f-status", "");
      await page.fill("#f-search", "svc-3");
      await expect.poll(() => visible.count()).toBe(1);
      await page.fill("#f-search", "");
      await page.locator('th[data-key="name"] button').click();
      await page.locator('th[data-key="name"] button').click();
      expect(await page.locator("#repos tbody tr").first().getAttribute("data-name")).toBe("acme/svc-4");
    });

    await withScreenshot(page, "job-page-repo", async () => {
      await page.locator('#repos a[href*="repo=acme%2Fsvc-1"]').click();
      await page.waitForSelector(".diff-file");
      expect(await page.locator("tr.ln.add td.code").first().textContent()).toContain("getJson");
      expect(await page.locator("tr.ln.del td.code").first().textContent()).toContain("fetchJson");
      expect(await page.locator(".conversation .msg.assistant").count()).toBe(2);
      await page.locator(".tool-call summary").first().click();
      expect(await page.locator(".tool-call pre").first().textContent()).toContain("str_replace");
      const body = await page.content();
      expect(body).not.toContain(API_KEY);
    });

    await withScreenshot(page, "job-page-phone", async () => {
      // A phone: one column, nothing wider than the screen (the table scrolls inside its box).
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(url);
      expect(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")).toBe(true);
      expect(await page.locator("svg.burndown").isVisible()).toBe(true);
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    expect(browser.errors).toEqual([]);
  });
});
