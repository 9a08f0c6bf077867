/**
 * Launching: the Launcher port, the local worker pool and AWS Batch launchers, submitting and cancelling a job, and the watchdog.
 * The folder's public face: code outside core/launch/ imports this file (a lazy `await import()` may name one file, so a bundle's chunk holds only it).
 */
export * from "./batch-launcher.ts";
export * from "./launcher.ts";
export * from "./submit.ts";
export * from "./watchdog.ts";
export * from "./worker-pool.ts";
