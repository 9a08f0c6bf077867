/**
 * Repository specs (`owner/name`) and allowlist patterns (`owner/*`, `owner/name`, optional
 * `github.com/` prefix, case-insensitive). Pure.
 */

/** GitHub owner: letters, digits and single hyphens, 1–39 characters, no hyphen at either end. */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** GitHub repository name: letters, digits, `.`, `_`, `-`, at most 100 characters. */
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

export type RepoSpec =
  | { kind: "ok"; owner: string; name: string; fullName: string }
  | { kind: "invalid"; reason: string };

/** A glob over one owner's repositories: `owner/*` matches every repository of owner. */
export type OwnerGlob = { kind: "glob"; owner: string };

function stripPrefix(raw: string): string {
  const s = raw.trim();
  return s.toLowerCase().startsWith("github.com/") ? s.slice("github.com/".length) : s;
}

function describe(raw: string): string {
  const printable = raw.replace(/[\u0000-\u001f\u007f]/g, "?");
  return JSON.stringify(printable.length > 60 ? `${printable.slice(0, 57)}...` : printable);
}

/**
 * Parses one repository as typed by a person. Accepts `owner/name` and `github.com/owner/name`;
 * refuses URLs, `..`, extra path segments, whitespace inside and control characters, with a
 * reason that quotes the input.
 */
export function parseRepoSpec(raw: string): RepoSpec {
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { kind: "invalid", reason: `${describe(raw)} contains control characters` };
  const s = stripPrefix(raw);
  if (s.includes("://") || s.includes("@") || s.includes(":"))
    return { kind: "invalid", reason: `${describe(raw)} is a URL; write owner/name` };
  if (/\s/.test(s)) return { kind: "invalid", reason: `${describe(raw)} contains whitespace` };
  if (s.includes("..")) return { kind: "invalid", reason: `${describe(raw)} contains ".."` };
  const parts = s.split("/");
  if (parts.length !== 2) return { kind: "invalid", reason: `${describe(raw)} is not of the form owner/name` };
  const [owner, name] = parts as [string, string];
  if (!OWNER.test(owner)) return { kind: "invalid", reason: `${describe(raw)}: "${owner}" is not a valid GitHub owner` };
  if (!NAME.test(name) || name === ".")
    return { kind: "invalid", reason: `${describe(raw)}: "${name}" is not a valid repository name` };
  return { kind: "ok", owner, name, fullName: `${owner}/${name}` };
}

/**
 * Parses `owner/*` (a request to expand every repository of owner). Returns undefined for
 * anything else, so callers can fall back to {@link parseRepoSpec}.
 */
export function parseOwnerGlob(raw: string): OwnerGlob | undefined {
  const s = stripPrefix(raw);
  const m = /^([^/]+)\/\*$/.exec(s);
  if (!m || !OWNER.test(m[1]!)) return undefined;
  return { kind: "glob", owner: m[1]! };
}

/** One allowlist entry: every repository of an owner, or exactly one repository. */
export type AllowPattern = { source: string; owner: string; name: string | "*" };

export type AllowlistParse = { kind: "ok"; patterns: AllowPattern[] } | { kind: "invalid"; reason: string };

/**
 * Parses `ALLOWED_REPOSITORIES`: comma- (or whitespace-) separated `owner/*` or `owner/name`,
 * optional `github.com/` prefix. `*` alone is refused: allow owners explicitly.
 */
export function parseAllowlist(value: string): AllowlistParse {
  const patterns: AllowPattern[] = [];
  for (const item of value.split(/[,\s]+/).filter(Boolean)) {
    const glob = parseOwnerGlob(item);
    if (glob) {
      patterns.push({ source: `${glob.owner}/*`, owner: glob.owner.toLowerCase(), name: "*" });
      continue;
    }
    const spec = parseRepoSpec(item);
    if (spec.kind === "invalid") return { kind: "invalid", reason: `bad pattern ${spec.reason}` };
    patterns.push({ source: spec.fullName, owner: spec.owner.toLowerCase(), name: spec.name.toLowerCase() });
  }
  return { kind: "ok", patterns };
}

/** True when `fullName` (`owner/name`, already parsed) matches one of the patterns. */
export function matchesAllowlist(fullName: string, patterns: readonly AllowPattern[]): boolean {
  const [owner, name] = fullName.toLowerCase().split("/");
  return patterns.some((p) => p.owner === owner && (p.name === "*" || p.name === name));
}
