/**
 * GitHub: the client (rate-limited Octokit), repository selectors and search, the pull-request rate gate, pull-request tracking and the webhook.
 * The folder's public face: code outside core/github/ imports this file (a lazy `await import()` may name one file, so a bundle's chunk holds only it).
 */
export * from "./github-search.ts";
export * from "./github-webhook.ts";
export * from "./github.ts";
export * from "./pr-rate-gate.ts";
export * from "./pr-tracking.ts";
export * from "./selectors.ts";
