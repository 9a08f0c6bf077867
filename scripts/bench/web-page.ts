/**
 * The job page of a 1,000-repository campaign (issue 20): the size of its HTML and JSON, the
 * server's time to build them, and the time to first contentful paint in headless chromium
 * (Debian's, through playwright-core), against a baseline measured in the same run: a bare
 * HTML table of the same rows (no script, no stylesheet, no chart) served by the same kind of
 * server. Runnable alone: `BENCH_ONLY=page make bench` or `node --import tsx scripts/bench/web-page.ts`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { derivePageKey, pageUrl } from "../../bot/web/page-token.ts";
import { loadConfig } from "../../core/config/index.ts";
import { newArtifacts } from "../../core/jobs/index.ts";
import { newLogger } from "../../core/runtime/index.ts";
import { newStore } from "../../core/jobs/index.ts";
import { seedCampaign } from "../../test/support/web-fixture.ts";
import { openBrowser } from "../../test-browser/browser.ts";
import { startPageServer } from "../cli-web.ts";
import { EmbeddedStack } from "../../environment/index.ts";
import { percentile, round } from "./results.ts";

export type WebPageBench = { htmlBytes: number; jsonBytes: number; serverMs: number; firstPaintMs: number; baselineFirstPaintMs: number; ratio: number; repos: number };

/** Seeds a `repos`-repository campaign (done, PRs tracked) and measures its page `runs` times. */
export async function benchWebPage(opts: { repos: number; runs: number }): Promise<WebPageBench> {
  const stack = await EmbeddedStack.start({ inMemory: true, env: {} });
  const config = loadConfig({ ...stack.env });
  const store = newStore(config);
  const artifacts = newArtifacts(config);
  const log = newLogger({ level: "silent" });
  const key = derivePageKey("bench-page-signing-secret-0123456789");
  const page = await startPageServer({ pageKey: key, store, artifacts, secrets: [], log }, 0);
  const browser = await openBrowser();
  let baseline: ReturnType<typeof createServer> | undefined;
  try {
    const job = await seedCampaign({ store, artifacts }, { jobId: "j-benchpage01", n: opts.repos, phase: "done", noArtifacts: true });
    const url = pageUrl(page.base, key, job);
    const serverMs: number[] = [];
    let html = "";
    let json = "";
    for (let i = 0; i < opts.runs; i++) {
      const t = performance.now();
      html = await (await fetch(url)).text();
      serverMs.push(performance.now() - t);
    }
    json = await (await fetch(`${url}.json`)).text();
    // The baseline: the same rows as a bare table, no assets.
    const rows = (await store.listRepos(job.jobId)).map((r) => `<tr><td>${r.repositoryName}</td><td>${r.status}</td><td>${r.prUrl ?? ""}</td></tr>`).join("");
    const bare = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>bare</title></head><body><h1>bare</h1><table>${rows}</table></body></html>`;
    baseline = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(bare));
    await new Promise<void>((ok) => baseline!.listen(0, "127.0.0.1", ok));
    const bareUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}/`;
    const paint = async (u: string) => {
      await browser.page.goto(u, { waitUntil: "load" });
      // A string, not a function: tsx's keepNames would wrap a function in a helper the page lacks.
      return browser.page.evaluate<number>(
        `new Promise((ok) => {
          const read = () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime;
          const v = read();
          if (v !== undefined) return ok(v);
          new PerformanceObserver(() => ok(read() ?? -1)).observe({ type: "paint", buffered: true });
        })`,
      );
    };
    const ours: number[] = [];
    const bases: number[] = [];
    await paint(url); // warm the browser and the asset cache once
    for (let i = 0; i < opts.runs; i++) {
      bases.push(await paint(bareUrl));
      ours.push(await paint(url));
    }
    if (browser.errors.length) throw new Error(`page bench: the browser reported ${browser.errors.join("; ")}`);
    const firstPaintMs = round(percentile(ours, 50), 1);
    const baselineFirstPaintMs = round(percentile(bases, 50), 1);
    return { htmlBytes: Buffer.byteLength(html), jsonBytes: Buffer.byteLength(json), serverMs: round(percentile(serverMs, 50), 1), firstPaintMs, baselineFirstPaintMs, ratio: round(firstPaintMs / baselineFirstPaintMs, 2), repos: opts.repos };
  } finally {
    await browser.close();
    await page.close();
    await new Promise<void>((ok) => (baseline ? baseline.close(() => ok()) : ok()));
    await stack.stop();
  }
}

// Alone: node --import tsx scripts/bench/web-page.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchWebPage({ repos: Number(process.env.BENCH_PAGE_REPOS ?? 1000), runs: Number(process.env.BENCH_PAGE_RUNS ?? 5) });
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
