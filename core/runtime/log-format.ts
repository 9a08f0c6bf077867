/**
 * Log lines for people: pino's JSON lines turned into `12:03:04 WARN  runner crashed; retrying
 * jobId=j-… index=1` (an error as its message, a stack only at debug), for a terminal. JSON stays
 * the format for programs: when `LOG_FORMAT=json` or the output is not a terminal. Pure, except
 * {@link logDestination}, which looks at the stream.
 */
import type { DestinationStream } from "pino";

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
/** Fields every line has or that say nothing to a person. */
const QUIET = new Set(["level", "time", "msg", "pid", "hostname", "program", "v"]);

/** One pino JSON line as a human line (with its newline); a line that is not JSON comes back as it is. */
export function humanLogLine(line: string, opts: { stacks?: boolean } = {}): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : `${line}\n`;
  }
  const time = typeof o.time === "string" ? o.time.slice(11, 19) : typeof o.time === "number" ? new Date(o.time).toISOString().slice(11, 19) : "";
  const level = (LEVELS[o.level as number] ?? String(o.level ?? "")).padEnd(5);
  const fields: string[] = [];
  let stack = "";
  for (const [k, v] of Object.entries(o)) {
    if (QUIET.has(k) || v === undefined) continue;
    if (k === "err" && v && typeof v === "object") {
      const e = v as { message?: string; stack?: string };
      fields.push(`err=${JSON.stringify(e.message ?? "")}`);
      if (opts.stacks && e.stack) stack = `\n${e.stack}`;
      continue;
    }
    fields.push(`${k}=${typeof v === "string" && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`);
  }
  return `${[time, level, String(o.msg ?? ""), ...fields].filter(Boolean).join(" ")}${stack}\n`;
}

/** True when logs on `stream` should be human lines: a terminal, and `LOG_FORMAT` is not `json`. */
export function wantsHumanLogs(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): boolean {
  return env.LOG_FORMAT !== "json" && (env.LOG_FORMAT === "human" || stream.isTTY === true);
}

/** A pino destination writing to `stream`: human lines on a terminal, JSON otherwise (see {@link wantsHumanLogs}). */
export function logDestination(env: NodeJS.ProcessEnv, stream: NodeJS.WriteStream, opts: { stacks?: boolean; drop?: () => boolean } = {}): DestinationStream {
  const human = wantsHumanLogs(env, stream);
  return {
    write: (s: string) => {
      if (opts.drop?.()) return;
      stream.write(human ? humanLogLine(s, opts) : s);
    },
  };
}
