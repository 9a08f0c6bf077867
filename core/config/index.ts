/**
 * Configuration: the typed settings read from the environment and repository specs / allowlist patterns.
 * The folder's public face: code outside core/config/ imports this file (a lazy `await import()` may name one file, so a bundle's chunk holds only it).
 */
export * from "./config.ts";
export * from "./repo-spec.ts";
