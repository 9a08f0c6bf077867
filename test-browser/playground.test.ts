/**
 * The playground in headless Chromium (issue 21): `/cody` typed on the page opens the bot's real
 * modal, filled and submitted; the thread fills in; PRs open on the GitHub stand-in, one check is
 * flipped red, the others green and approved; Refresh, then Merge green merges the green ones,
 * and `/cody list` answers. Everything through the bot's real HTTP entry, signed as Slack signs.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlayground, type Playground } from "../scripts/playground/playground.ts";
import { startTestStack, type TestStack } from "../test/support/stack.ts";
import { openBrowser, withScreenshot, type Browser } from "./browser.ts";

let stack: TestStack;
let pg: Playground;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cody-playground-"));
  stack = await startTestStack();
  pg = await startPlayground({ ...process.env, ...stack.env, CODY_DIR: dir, LOCAL_RUNNER: "inprocess", LOG_LEVEL: "silent" }, { port: 0 });
  browser = await openBrowser({ width: 1280, height: 900 });
  browser.page.on("dialog", (d) => void d.accept());
});
afterAll(async () => {
  await browser?.close();
  await pg?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until `locator` shows `text` (fails after the locator's timeout). */
const shows = (locator: import("playwright-core").Locator, text: string) => locator.filter({ hasText: text }).first().waitFor({ timeout: 30_000 });

const SCRIPT = "grep -rl fetchJson . --include=*.js | xargs -r sed -i s/fetchJson/getJson/g";

describe("the playground", () => {
  it("runs a job from the modal and a campaign through Merge green, in a browser", async () => {
    const page = browser.page;
    await withScreenshot(page, "playground-job", async () => {
      await page.goto(pg.url);
      await shows(page.locator("header"), "Cody Batch playground");
      await page.fill("#command", "/cody");
      await page.click("#send");
      await page.locator("#modal h2", { hasText: "New batch change" }).waitFor();
      await page.check('#modal input[name="type"][value="script"]');
      await page.fill('#modal textarea[name="instructions"]', SCRIPT);
      await page.fill('#modal textarea[name="repositories"]', "example/*");
      await page.fill('#modal input[name="name"]', "Rename fetchJson");
      await page.click('#modal button:has-text("Preview targets")');
      await page.locator("#modal", { hasText: "5 repositories" }).waitFor({ timeout: 30_000 });
      expect(await page.isChecked('#modal input[name="options"][value="pr"]')).toBe(true);
      await page.click("#modal-submit");
      await page.locator("#overlay").waitFor({ state: "hidden" });
      const root = page.locator(".msg.root").first();
      await root.locator("text=finished in").waitFor({ timeout: 120_000 });
      await shows(root, "Rename fetchJson");
      await shows(root, "started by @you");
      await shows(root, "PRs: 4 opened");
      await page.locator(".replies .msg.reply").first().waitFor();
      await shows(page.locator(".replies"), "example/billing-service");
      await shows(page.locator(".replies"), "no change needed");
    });

    await withScreenshot(page, "playground-campaign", async () => {
      await page.locator(".pull").nth(3).waitFor();
      const pull = (repo: string) => page.locator(`.pull[data-repository="${repo}"]`);
      await pull("example/web-shop").locator("button:has-text('checks fail')").click();
      for (const repo of ["example/billing-service", "example/admin-ui", "example/payments-lib"]) {
        await pull(repo).locator("button:has-text('checks pass')").click();
        await pull(repo).locator("button:has-text('approve')").click();
      }
      const root = page.locator(".msg.root").first();
      await root.locator("button:has-text('Refresh')").click();
      await root.locator("button:has-text('Merge green')").waitFor({ timeout: 60_000 });
      await shows(root, "1 failing");
      await shows(root, "example/web-shop #");
      await root.locator("button:has-text('Merge green')").click();
      await page.locator(".msg.reply", { hasText: "Merge by" }).waitFor({ timeout: 60_000 });
      await shows(page.locator(".msg.reply", { hasText: "Merge by" }), "3 merged");
      await shows(pull("example/billing-service"), "merged");
      await shows(pull("example/web-shop"), "open");
      await root.locator("text=3 merged · 1 open").waitFor({ timeout: 30_000 });
    });

    await page.fill("#command", "/cody list");
    await page.click("#send");
    await page.locator(".ephemeral", { hasText: "Rename fetchJson" }).waitFor();
    if (process.env.PLAYGROUND_SCREENSHOT) {
      mkdirSync(resolve(process.env.PLAYGROUND_SCREENSHOT, ".."), { recursive: true });
      await page.screenshot({ path: process.env.PLAYGROUND_SCREENSHOT, fullPage: true });
    }
    expect(browser.errors, browser.errors.join("\n")).toEqual([]);
  }, 240_000);
});
