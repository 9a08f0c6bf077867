/**
 * `node --import tsx scripts/web-screenshot.ts URL FILE [WIDTHxHEIGHT]`: a full-page screenshot
 * of a job page in headless chromium (how docs/images/job-page.png is made, after `make run` and
 * `cody web JOB_ID`). Exit 1 when the page logs a console error.
 */
import { openBrowser } from "../test-browser/browser.ts";

const [url, file, size = "1280x800"] = process.argv.slice(2);
if (!url || !file) {
  process.stderr.write("usage: node --import tsx scripts/web-screenshot.ts URL FILE [WIDTHxHEIGHT]\n");
  process.exit(2);
}
const [width, height] = size.split("x").map(Number) as [number, number];
const b = await openBrowser({ width, height });
try {
  await b.page.goto(url, { waitUntil: "load" });
  await b.page.screenshot({ path: file, fullPage: false });
  if (b.errors.length) {
    process.stderr.write(`${b.errors.join("\n")}\n`);
    process.exitCode = 1;
  }
} finally {
  await b.close();
}
