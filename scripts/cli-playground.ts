/**
 * `cody playground` (`make playground`): the Slack bot and a local stand-in for Slack and GitHub
 * on 127.0.0.1, with a web page to use them (scripts/playground/). Runs until Ctrl-C.
 */
import { parseArgs } from "node:util";
import { startPlayground } from "./playground/playground.ts";

/** Starts the playground and serves it until SIGINT/SIGTERM; returns the exit code. */
export async function playgroundCommand(args: string[], env: NodeJS.ProcessEnv, usage: (message: string) => Error): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: "string" } }, allowPositionals: false, strict: true });
  const port = values.port === undefined ? Number(env.PLAYGROUND_PORT ?? 3100) : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`--port takes a port number, got "${values.port}"`);
  const dropped = Object.keys(env).filter((k) => /^(SLACK_BOT_TOKEN|SLACK_SIGNING_SECRET|GITHUB_TOKEN|GITHUB_APP_ID)$/.test(k) && env[k]);
  const pg = await startPlayground(env, { port });
  process.stderr.write(
    `cody playground: ${pg.url}\n` +
      "  the real bot, wired as in cody dev, with local stand-ins for Slack and GitHub (example/* repositories); nothing reaches a real workspace\n" +
      (dropped.length ? `  not used here: ${dropped.join(", ")} (the playground never talks to real Slack or GitHub)\n` : "") +
      "  Ctrl-C stops it\n",
  );
  await new Promise<void>((done) => {
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  await pg.close();
  return 0;
}
