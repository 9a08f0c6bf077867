/**
 * Jobs: the job and repository-row model with its state machine, the DynamoDB store of jobs and rows (campaign records included), S3 artifacts, the reply window, and the Notifier port.
 * The folder's public face: code outside core/jobs/ imports this file (a lazy `await import()` may name one file, so a bundle's chunk holds only it).
 */
export * from "./artifacts.ts";
export * from "./count-history.ts";
export * from "./dynamo.ts";
export * from "./job-request.ts";
export * from "./job.ts";
export * from "./notifier.ts";
export * from "./reply-window.ts";
export * from "./store-campaign.ts";
export * from "./store-types.ts";
export * from "./store.ts";
