/**
 * An environment to run in: the embedded local stack (dynalite + s3rver, shared through a daemon) or a deployed AWS stack, with its store, artifacts and launcher. Used by the CLI (scripts/) and the local bot server (bot/server.ts).
 * The folder's public face: code outside environment/ imports this file (a lazy `await import()` may name one file, so a bundle's chunk holds only it).
 */
export * from "./embedded-stack.ts";
export * from "./environment.ts";
export * from "./stack-daemon.ts";
export * from "./stack-errors.ts";
