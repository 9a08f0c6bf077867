/**
 * Runtime basics every room uses: the redacting logger, abortable sleep, and whether a process is alive.
 * The folder's public face: code outside core/runtime/ imports this file (a lazy `await import()` may name one file, so a bundle's chunk holds only it).
 */
export * from "./log.ts";
export * from "./process-alive.ts";
export * from "./sleep.ts";
export * from "./log-format.ts";
export * from "./did-you-mean.ts";
