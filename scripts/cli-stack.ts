/**
 * `cody stack status|start|stop` and the daemon itself (`cody stack serve`, started by
 * environment/stack-daemon.ts, never by hand). Status exits 0 when the stack runs, 3 when it does not.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { EmbeddedStack } from "../environment/index.ts";
import { announce, connectStack, liveStack, readState, stopStack, unannounce, type StackState } from "../environment/index.ts";
import { stackErrorMessage } from "../environment/index.ts";

const DEFAULT_IDLE_SECONDS = 1800;
/** After SIGUSR2 (`make run` is done with the stack it started): stop once nobody asked for this long. */
const LINGER_MS = 5000;

/** `cody stack …`; `bad(message)` builds the CLI's usage error. */
export async function stackCommand(args: string[], env: NodeJS.ProcessEnv, bad: (m: string) => Error): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { json: { type: "boolean" } }, strict: true });
  const dir = resolve(env.CODY_DIR ?? ".cody");
  const print = (state: StackState, how: string) =>
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ running: true, ...state })}\n`
        : `embedded stack ${how}: pid ${state.pid} since ${state.startedAt}\n  DynamoDB ${state.env.DYNAMODB_ENDPOINT}  S3 ${state.env.S3_ENDPOINT}\n  log ${state.log}\n`,
    );
  switch (sub) {
    case "status": {
      const state = await liveStack(dir);
      if (state) return print(state, "running"), 0;
      process.stdout.write(values.json ? `${JSON.stringify({ running: false })}\n` : `embedded stack not running (${dir})\n`);
      return 3;
    }
    case "start": {
      const state = await connectStack(dir, env);
      return print(state, state.started ? "started" : "already running"), 0;
    }
    case "stop": {
      const pid = await stopStack(dir);
      process.stdout.write(pid ? `embedded stack stopped (pid ${pid})\n` : `embedded stack was not running (${dir})\n`);
      return 0;
    }
    case "serve":
      return serveStack(dir, env);
    default:
      throw bad(sub ? `unknown stack command "${sub}" (status, start, stop)` : "stack needs status, start or stop");
  }
}

const port = (v: string | undefined) => (v === undefined || v === "" ? undefined : Number(v));

/**
 * The daemon: runs the persistent stack under `dir`, announces it in stack.json once it answers,
 * and runs until SIGTERM/SIGINT, CODY_STACK_IDLE_SECONDS without a DynamoDB request, or another
 * daemon taking over stack.json. A start failure is one `FAILED: …` line in the log, exit 1.
 */
async function serveStack(dir: string, env: NodeJS.ProcessEnv): Promise<number> {
  let last = Date.now();
  let idleMs = (Number(env.CODY_STACK_IDLE_SECONDS) || DEFAULT_IDLE_SECONDS) * 1000;
  let stack: EmbeddedStack;
  try {
    const dynamoPort = port(env.CODY_STACK_DYNAMODB_PORT);
    const s3Port = port(env.CODY_STACK_S3_PORT);
    stack = await EmbeddedStack.start({
      dir,
      env,
      ...(dynamoPort !== undefined ? { dynamoPort } : {}),
      ...(s3Port !== undefined ? { s3Port } : {}),
      onRequest: () => void (last = Date.now()),
    });
  } catch (err) {
    process.stderr.write(`FAILED: ${stackErrorMessage(err, dir)}\n`);
    return 1;
  }
  const state: StackState = { pid: process.pid, env: stack.env, startedAt: new Date().toISOString(), log: `${dir}/stack.log` };
  announce(dir, state);
  process.stderr.write(`${state.startedAt} ready: pid ${process.pid}, DynamoDB ${stack.env.DYNAMODB_ENDPOINT}, S3 ${stack.env.S3_ENDPOINT}\n`);
  const why = await new Promise<string>((done) => {
    process.once("SIGTERM", () => done("SIGTERM"));
    process.once("SIGINT", () => done("SIGINT"));
    process.on("SIGUSR2", () => {
      idleMs = Math.min(idleMs, LINGER_MS);
      last = Date.now();
    });
    setInterval(() => {
      if (Date.now() - last > idleMs) done(`idle for ${Math.round(idleMs / 1000)} s`);
      if (readState(dir)?.pid !== process.pid) done("stack.json names another daemon");
    }, 1000);
  });
  unannounce(dir, process.pid);
  await stack.stop();
  process.stderr.write(`${new Date().toISOString()} stopped (${why})\n`);
  return 0;
}
