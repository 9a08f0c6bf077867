/**
 * `cody dev` (`make dev`): the bot's local HTTP server (or Socket Mode). In its own file so
 * scripts/cody.ts stays a short dispatcher.
 */
import { UsageError } from "./cli-usage-error.ts";

/** Starts the bot's server with `env`; resolves with its exit code. */
export async function devCommand(env: NodeJS.ProcessEnv): Promise<number> {
  const server = (await import("../bot/server.ts")) as { main?: (env: NodeJS.ProcessEnv) => Promise<number> };
  if (!server.main) throw new UsageError("the bot's server entry is not available");
  return server.main(env);
}
