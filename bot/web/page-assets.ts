/**
 * The page's static files with content-hashed names (`page-<hash>.js`, `page-<hash>.css`), so
 * they can be cached for good and a deploy never mixes an old script with a new page.
 */
import { createHash } from "node:crypto";
import { PAGE_JS } from "./page-script.ts";
import { PAGE_CSS } from "./page-style.ts";

/** A served file. */
export type Asset = { name: string; type: string; body: string };

function asset(stem: string, ext: string, type: string, body: string): Asset {
  return { name: `${stem}-${createHash("sha256").update(body).digest("hex").slice(0, 12)}.${ext}`, type, body };
}

/** The page's script and stylesheet. */
export const ASSETS = { js: asset("page", "js", "text/javascript; charset=utf-8", PAGE_JS), css: asset("page", "css", "text/css; charset=utf-8", PAGE_CSS) } as const;

/** The asset called `name`, or undefined. */
export function assetNamed(name: string): Asset | undefined {
  return Object.values(ASSETS).find((a) => a.name === name);
}
