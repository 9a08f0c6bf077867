/**
 * Logging: pino, JSON lines to stdout (or a given stream), one root logger built by an entry
 * point and narrowed with `child({ jobId, repo, step })`. Token-shaped values and known secret
 * values are redacted from every line.
 */
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger } from "pino";

/** Patterns of credentials that must never reach a log line, an artifact or Slack. */
const TOKEN_PATTERNS: RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g, // Slack tokens
  /\bxapp-[A-Za-z0-9-]{10,}\b/g,
  /\bsk-ant-[A-Za-z0-9_-]{10,}\b/g, // Anthropic keys
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /(authorization["']?\s*[:=]\s*["']?(?:basic|bearer|token)\s+)[A-Za-z0-9+/=._-]+/gi,
];

/**
 * Returns `text` with every known secret value and every token-shaped string replaced by
 * `[REDACTED]`. Used for logs, artifacts (diffs, transcripts) and messages.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join("[REDACTED]");
  for (const p of TOKEN_PATTERNS) {
    out = out.replace(p, (m, prefix?: string) => (typeof prefix === "string" && m.startsWith(prefix) ? `${prefix}[REDACTED]` : "[REDACTED]"));
  }
  return out;
}

/** Builds the root logger. `secrets` are redacted from every line written. */
export function newLogger(opts: { level: string; secrets?: readonly string[]; base?: Record<string, unknown> }, dest?: DestinationStream): Logger {
  const secrets = opts.secrets ?? [];
  const out: DestinationStream = dest ?? { write: (s: string) => void process.stdout.write(s) };
  const stream: DestinationStream = { write: (line: string) => out.write(redact(line, secrets)) };
  return pino(
    {
      level: opts.level,
      base: opts.base ?? {},
      redact: { paths: ["token", "*.token", "apiKey", "*.apiKey", "authorization", "*.authorization", "headers.authorization"], censor: "[REDACTED]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}
