/**
 * Campaigns: the actions on a finished job's repositories (publish, retry, update, merge, close) and the forge they act through.
 * The folder's public face: code outside core/campaign/ imports this file (a lazy `await import()` may name one file, so a bundle's chunk holds only it).
 */
export * from "./campaign-forge.ts";
export * from "./campaign-merge.ts";
export * from "./campaign-wiring.ts";
export * from "./campaign.ts";
