/**
 * CODEOWNERS: which people and teams own the files a change touches, as GitHub reads the file
 * (`.github/CODEOWNERS`, then `CODEOWNERS` at the root, then `docs/CODEOWNERS`; gitignore-style
 * patterns; the last matching line wins; a line without owners un-owns). Renovate requests the
 * same owners with `reviewersFromCodeOwners`. Pure.
 */

/** Where GitHub looks for the file, in order; the first one found is used. */
export const CODEOWNERS_PATHS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;

export type CodeOwnerRule = { pattern: string; regex: RegExp; owners: string[] };

/** Parses CODEOWNERS text; comments, blank lines and unparseable patterns are skipped. */
export function parseCodeOwners(text: string): CodeOwnerRule[] {
  const rules: CodeOwnerRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line) continue;
    const [pattern, ...owners] = line.split(/\s+/);
    const regex = patternRegex(pattern!);
    if (regex) rules.push({ pattern: pattern!, regex, owners });
  }
  return rules;
}

/** gitignore-style pattern → regex over repository-relative paths (`a/b.ts`). */
function patternRegex(pattern: string): RegExp | undefined {
  if (pattern.startsWith("!") || pattern.includes("[")) return undefined; // GitHub does not support these
  let p = pattern;
  const anchored = p.startsWith("/") || p.slice(0, -1).includes("/");
  p = p.replace(/^\/+/, "");
  const dirOnly = p.endsWith("/");
  p = p.replace(/\/+$/, "");
  if (!p) return /^.*$/;
  let body = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*" && p[i + 1] === "*") {
      const slash = p[i + 2] === "/";
      body += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") body += "[^/]*";
    else if (c === "?") body += "[^/]";
    else body += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${anchored ? "" : "(?:.*/)?"}${body}${dirOnly ? "/.*" : "(?:/.*)?"}$`);
}

/** The owners of one path: the last matching rule's (possibly none). */
export function ownersOf(rules: readonly CodeOwnerRule[], path: string): string[] {
  for (let i = rules.length - 1; i >= 0; i--) if (rules[i]!.regex.test(path)) return rules[i]!.owners;
  return [];
}

/**
 * The reviewers to request for changed `paths`: `@user` → reviewers, `@org/team` → team
 * reviewers (the slug); e-mail owners are skipped (the API takes logins). Deduplicated,
 * case-insensitively, in first-seen order.
 */
export function codeOwnerReviewers(rules: readonly CodeOwnerRule[], paths: readonly string[]): { reviewers: string[]; teamReviewers: string[] } {
  const reviewers = new Map<string, string>();
  const teams = new Map<string, string>();
  for (const path of paths) {
    for (const owner of ownersOf(rules, path)) {
      const m = /^@([^/\s]+)(?:\/([^/\s]+))?$/.exec(owner);
      if (!m) continue;
      if (m[2]) teams.set(m[2].toLowerCase(), m[2]);
      else reviewers.set(m[1]!.toLowerCase(), m[1]!);
    }
  }
  return { reviewers: [...reviewers.values()], teamReviewers: [...teams.values()] };
}
