/**
 * Logging: pino, JSON lines to stdout (or a given stream), one root logger built by an entry
 * point and narrowed with `child({ jobId, repo, step })`. Token-shaped values and known secret
 * values are redacted from every line.
 */
import { pino, type Logger, type DestinationStream } from "pino";
import { secretRanges } from "../secrets/index.ts";

export type { Logger } from "pino";

/** A credential shape and what replaces it (`$n` keeps the named context, e.g. `Authorization: Bearer `). */
type TokenPattern = { re: RegExp; to: string };

const R = "[REDACTED]";
/** AWS access key ids: long-term (AKIA), temporary (ASIA) and the other documented prefixes. */
const AWS_KEY_ID = String.raw`\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|AROA|ANPA|ANVA|APKA|ASCA)[A-Z0-9]{16}\b`;
/** A 40-character AWS secret access key standing alone (not part of a longer run, not a hex SHA). */
const AWS_SECRET = String.raw`(?<![A-Za-z0-9/+=])(?![0-9a-f]{40})[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`;
/** `name": "`, `name=`, `name: '` … between a key's name and its value. */
const ASSIGN = String.raw`["']?\s*[:=]\s*["']?`;

/** Patterns of credentials that must never reach a log line, an artifact or Slack. */
const TOKEN_PATTERNS: TokenPattern[] = [
  { re: /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, to: R }, // GitHub tokens
  { re: /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g, to: R },
  { re: /\bxox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{10,}/g, to: R }, // Slack tokens: xoxb, xoxp, xoxa, xoxc, xoxe, xoxe.xoxp …
  { re: /\bxapp-[A-Za-z0-9-]{10,}\b/g, to: R },
  { re: /\bhttps:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g, to: `https://hooks.slack.com/${R}` },
  { re: /\bsk-ant-[A-Za-z0-9_-]{10,}\b/g, to: R }, // Anthropic keys
  { re: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, to: R },
  { re: /(authorization["']?\s*[:=]\s*["']?(?:basic|bearer|token)\s+)[A-Za-z0-9+/=._-]+/gi, to: `$1${R}` },
  // AWS: a secret key near its key id (env dumps, credential files, the container credentials JSON),
  // named secret keys and session tokens wherever they stand, then the key ids themselves.
  { re: new RegExp(`(${AWS_KEY_ID})([\\s\\S]{0,200}?)${AWS_SECRET}`, "g"), to: `${R}$2${R}` },
  { re: new RegExp(`((?:aws_?)?secret_?access_?key${ASSIGN})[A-Za-z0-9/+=]{40}`, "gi"), to: `$1${R}` },
  { re: new RegExp(`((?:aws_?session_?token|"?Token"?|SessionToken)${ASSIGN})[A-Za-z0-9/+=]{100,}`, "g"), to: `$1${R}` },
  { re: new RegExp(`((?:aws_?)?session_?token${ASSIGN})[A-Za-z0-9/+=]{16,}`, "gi"), to: `$1${R}` },
  { re: new RegExp(AWS_KEY_ID, "g"), to: R },
  // Credentials in URLs: `scheme://user:password@host`, or a long user part that is a token.
  { re: /\b([a-z][a-z0-9+.-]*:\/\/)(?:[^\s/?#@"'<>:]*:[^\s/?#@"'<>]+|[^\s/?#@"'<>:]{16,})@/gi, to: `$1${R}@` },
];

/**
 * Returns `text` with every known secret value (and its JSON-escaped, reversed, ROT13, URL-encoded, hex and
 * base64/base64url forms, see secret-forms.ts) and every token-shaped string (GitHub, Slack, Anthropic, AWS keys,
 * private keys, Authorization values, credentials in URLs) replaced by `[REDACTED]`.
 * Secrets shorter than 8 characters are ignored. Used for logs, artifacts, reasons and messages.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = "";
  let from = 0;
  for (const [start, end] of secretRanges(text, secrets)) {
    out += `${text.slice(from, start)}${R}`;
    from = end;
  }
  out += text.slice(from);
  for (const p of TOKEN_PATTERNS) out = out.replace(p.re, p.to);
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
