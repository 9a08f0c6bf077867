/**
 * Change specs: the YAML file a job can be described in (`cody run --file`, the Slack modal's spec field), parsed and checked with line numbers.
 * The folder's public face: code outside core/spec/ imports this file (a lazy `await import()` may name one file, so a bundle's chunk holds only it).
 */
export * from "./change-spec.ts";
