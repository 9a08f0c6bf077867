/**
 * Logging: pino, JSON lines to stdout (or a given stream), one root logger built by an entry
 * point and narrowed with `child({ jobId, repo, step })`. Token-shaped values and known secret
 * values are redacted from every line.
 */
import { pino, type Logger, type DestinationStream } from "pino";

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

const B64 = "A-Za-z0-9+/";
const B64URL = "A-Za-z0-9_-";

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The part of base64(`bytes`) that is the same wherever `bytes` sits in a longer encoded stream
 * starting at byte offset `k` (mod 3): the groups shared with unknown neighbours are dropped.
 */
function base64Core(bytes: Buffer, k: number, url: boolean): string {
  const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString(url ? "base64url" : "base64");
  const full = Math.floor((k + bytes.length) / 3) * 4;
  return enc.slice(k > 0 ? 4 : 0, full);
}

/** `core` as a pattern that also tolerates line breaks (`base64` wraps at 76) and takes the partial groups around it. */
function encodedPattern(core: string, alphabet: string, wrap: boolean): string {
  const sep = wrap ? String.raw`(?:\r?\n|\\r?\\n)?` : "";
  const body = [...core].map(escapeRe).join(sep);
  return `[${alphabet}]{0,4}${sep}${body}${sep}[${alphabet}]{0,4}${alphabet === B64 ? "={0,2}" : ""}`;
}

function rot13(s: string): string {
  return s.replace(/[a-z]/gi, (c) => {
    const base = c <= "Z" ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

const compiled = new Map<string, RegExp[]>();

/**
 * The patterns of one known secret: the value itself, JSON-escaped, reversed, ROT13, URL-encoded, hex, and
 * base64/base64url at every byte alignment (so `echo $TOKEN | base64` or an encoded env dump
 * is caught, whatever precedes the value). Cached per value.
 */
function secretPatterns(secret: string): RegExp[] {
  const hit = compiled.get(secret);
  if (hit) return hit;
  const bytes = Buffer.from(secret, "utf8");
  // Reversed (`rev`) and ROT13 (`tr a-zA-Z n-za-mN-ZA-M`): one-liners a script could use.
  const exact = new Set([secret, JSON.stringify(secret).slice(1, -1), [...secret].reverse().join(""), rot13(secret)]);
  const folded = new Set([encodeURIComponent(secret), bytes.toString("hex")].filter((f) => f !== secret));
  const encoded: string[] = [];
  for (const [alphabet, url] of [[B64, false], [B64URL, true]] as const) {
    for (const k of [0, 1, 2]) {
      const core = base64Core(bytes, k, url);
      if (core.length >= 8) encoded.push(encodedPattern(core, alphabet, !url));
    }
  }
  const out = [
    new RegExp([...exact].map(escapeRe).join("|"), "g"),
    new RegExp([...folded].map(escapeRe).join("|"), "gi"),
    new RegExp(encoded.join("|"), "g"),
  ].filter((re) => re.source !== "(?:)");
  if (compiled.size > 256) compiled.clear();
  compiled.set(secret, out);
  return out;
}

/**
 * Returns `text` with every known secret value (and its JSON-escaped, reversed, ROT13, URL-encoded, hex and
 * base64/base64url forms) and every token-shaped string (GitHub, Slack, Anthropic, AWS keys,
 * private keys, Authorization values, credentials in URLs) replaced by `[REDACTED]`.
 * Secrets shorter than 8 characters are ignored. Used for logs, artifacts, reasons and messages.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 8) continue;
    for (const re of secretPatterns(s)) out = out.replace(re, R);
  }
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
