/**
 * Path confinement for the agent's tools: every path the model names is mapped to a real path
 * inside the workspace (symlinks resolved), or refused with a reason the model can read.
 */
import { realpath } from "node:fs/promises";
import path from "node:path";

/** The root the system prompt names; `/repo/src/x.ts` means `<workspace>/src/x.ts`. */
export const VIRTUAL_ROOT = "/repo";

/** Where a model path lands, or why it may not be used. */
export type ResolvedPath =
  | { kind: "ok"; real: string; relative: string; exists: boolean }
  | { kind: "refused"; reason: string };

/**
 * Resolves `given` (relative to the workspace, or absolute under {@link VIRTUAL_ROOT} or under
 * the workspace's own path) to a real path inside `realRoot`, which must itself be a real path.
 * Refuses `..` escapes, absolute paths elsewhere, symlinks that lead out, and anything inside
 * `.git/`. A path that does not exist yet is resolved through its nearest existing ancestor
 * (for `create`). Never throws for a bad path; rethrows only unexpected file-system errors.
 */
export async function resolveInWorkspace(realRoot: string, given: string): Promise<ResolvedPath> {
  if (typeof given !== "string" || given.trim() === "") return refused("a path is required");
  if (given.includes("\0")) return refused("the path contains a NUL byte");
  const rel = toRelative(realRoot, given.trim());
  if (rel === undefined) return refused(`${given} is outside the repository (use paths relative to the repository root or under ${VIRTUAL_ROOT}/)`);
  const lexical = path.resolve(realRoot, rel);
  if (!isInside(realRoot, lexical)) return refused(`${given} is outside the repository`);

  // Walk up to the nearest existing ancestor, so links anywhere along the way are resolved.
  let existing = lexical;
  const rest: string[] = [];
  let real: string | undefined;
  for (;;) {
    try {
      real = await realpath(existing);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
      if (existing === realRoot) return refused("the repository root is missing");
      rest.unshift(path.basename(existing));
      existing = path.dirname(existing);
    }
  }
  const target = rest.length > 0 ? path.join(real, ...rest) : real;
  if (!isInside(realRoot, target)) return refused(`${given} leads outside the repository (through a symbolic link)`);
  const relative = path.relative(realRoot, target);
  if (relative.split(path.sep)[0] === ".git") return refused("the .git directory is off limits");
  return { kind: "ok", real: target, relative: relative === "" ? "." : relative, exists: rest.length === 0 };
}

/** The workspace-relative form of a model path, or undefined for an absolute path elsewhere. */
function toRelative(realRoot: string, given: string): string | undefined {
  if (!path.isAbsolute(given)) return given;
  const normalized = path.normalize(given);
  for (const base of [VIRTUAL_ROOT, realRoot]) {
    if (normalized === base) return ".";
    if (normalized.startsWith(base + path.sep)) return normalized.slice(base.length + 1);
  }
  return undefined;
}

/** True when `p` is `root` or below it. */
export function isInside(root: string, p: string): boolean {
  const r = path.relative(root, p);
  return r === "" || (r !== ".." && !r.startsWith(`..${path.sep}`) && !path.isAbsolute(r));
}

function refused(reason: string): ResolvedPath {
  return { kind: "refused", reason };
}
