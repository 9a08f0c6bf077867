/**
 * Path confinement and file access for the agent's tools: every path the model names is mapped
 * to a path inside the workspace whose every component is a real directory or file (never a symbolic link, not
 * even a dangling one) and none of whose components is a `.git` in any spelling git itself
 * refuses; or it is refused with a reason the model can read, naming paths only under `/repo`.
 * Files are then read and written without following links (O_NOFOLLOW, O_EXCL for new files).
 */
import { constants, type Stats } from "node:fs";
import { lchown, lstat, mkdir, open, type FileHandle } from "node:fs/promises";
import path from "node:path";

/** The root the system prompt names; `/repo/src/x.ts` means `<workspace>/src/x.ts`. */
export const VIRTUAL_ROOT = "/repo";

/** Where a model path lands, or why it may not be used. */
export type ResolvedPath =
  | { kind: "ok"; real: string; relative: string; exists: boolean }
  | { kind: "refused"; reason: string };

/** Code points HFS+ ignores when it compares names (git's `is_hfs_dotgit` list). */
const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * True when a path component `name` would be `.git` on some file system git protects against:
 * any letter case, NTFS's trailing dots and spaces, alternate data streams (`.git::$…`) and its
 * 8.3 short name `git~1`, HFS+'s ignorable code points, and a backslash as a separator.
 */
export function isGitName(name: string): boolean {
  const first = name.replace(HFS_IGNORABLE, "").split("\\")[0]!.toLowerCase();
  return /^(?:\.git|git~1)[. ]*(?::.*)?$/.test(first);
}

/**
 * Resolves `given` (relative to the workspace, or absolute under {@link VIRTUAL_ROOT} or under
 * the workspace's own path) to a path inside `realRoot`, which must itself be a real path.
 * Refuses `..` escapes, absolute paths elsewhere, any `.git` component ({@link isGitName}), any
 * symbolic link on the way (checked with lstat, component by component, so a dangling link is
 * refused too) and a file used as a directory. A path that does not exist yet is `exists: false`
 * (for `create`). Never throws for a bad path; rethrows only unexpected file-system errors.
 */
export async function resolveInWorkspace(realRoot: string, given: string): Promise<ResolvedPath> {
  if (typeof given !== "string" || given.trim() === "") return refused("a path is required");
  if (given.includes("\0")) return refused("the path contains a NUL byte");
  const rel = toRelative(realRoot, given.trim());
  if (rel === undefined) return refused(`${given} is outside the repository (use paths relative to the repository root or under ${VIRTUAL_ROOT}/)`);
  const lexical = path.resolve(realRoot, rel);
  if (!isInside(realRoot, lexical)) return refused(`${given} is outside the repository`);
  const parts = path.relative(realRoot, lexical).split(path.sep).filter(Boolean);
  if (parts.some(isGitName)) return refused("the .git directory is off limits (in any spelling, at any depth)");

  let at = realRoot;
  for (let i = 0; i < parts.length; i++) {
    at = path.join(at, parts[i]!);
    const shown = parts.slice(0, i + 1).join("/");
    let st: Stats;
    try {
      st = await lstat(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return ok(realRoot, parts, false);
      throw err;
    }
    if (st.isSymbolicLink()) return refused(`${shown} is a symbolic link; the tools do not follow links (use the path it points to)`);
    if (i < parts.length - 1 && !st.isDirectory()) return refused(`${shown} is not a directory`);
  }
  return ok(realRoot, parts, true);
}

/**
 * Creates the missing directories of a resolved path one component at a time (mkdir never
 * follows a link planted in between: it fails on anything that exists), refusing a component
 * that turned into something else than a directory since it was resolved.
 */
async function makeParents(realRoot: string, relative: string, owner: Owner | undefined): Promise<void> {
  let at = realRoot;
  for (const part of path.dirname(relative).split(path.sep).filter((p) => p && p !== ".")) {
    at = path.join(at, part);
    try {
      await mkdir(at);
      if (owner) await lchown(at, owner.uid, owner.gid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (!(await lstat(at)).isDirectory()) throw new Error(`${path.relative(realRoot, at)} is not a directory`);
    }
  }
}

/**
 * Opens a resolved file without following a link at its last component (O_NOFOLLOW): for
 * reading (non-blocking, so a FIFO cannot hang the tool), for replacing an existing file (not
 * truncated: the caller checks it first), or for
 * creating a new one (O_EXCL: fails when anything, a dangling link included, is already there).
 */
function openNoFollow(real: string, mode: "read" | "replace" | "create"): Promise<FileHandle> {
  const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;
  const flags = mode === "read" ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK : mode === "replace" ? O_WRONLY | O_NOFOLLOW : O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
  return open(real, flags, 0o644);
}

/** A file read as text, or why the tools will not read it. */
export type TextRead = { kind: "ok"; text: string } | { kind: "refused"; reason: string };
/** A path {@link resolveInWorkspace} accepted. */
export type Target = { real: string; relative: string; exists: boolean };

/** Reads a regular file (never through a link, never a FIFO or device) as UTF-8 text within `max` bytes. */
export async function readText(target: Target, max: number): Promise<TextRead> {
  const shown = target.relative;
  let fh;
  try {
    fh = await openNoFollow(target.real, "read");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") return { kind: "refused", reason: `${shown} is a symbolic link; the tools do not follow links` };
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { kind: "refused", reason: `${shown} is not a regular file` };
    if (st.nlink > 1) return { kind: "refused", reason: `${shown} has several hard links; the tools do not use it` };
    if (st.size > max) return { kind: "refused", reason: `${shown} is ${st.size} bytes, above the ${max}-byte limit; use search to find what you need` };
    const buf = await fh.readFile();
    if (buf.subarray(0, 8192).includes(0)) return { kind: "refused", reason: `${shown} is a binary file` };
    return { kind: "ok", text: buf.toString("utf8") };
  } finally {
    await fh.close();
  }
}

/** {@link readText} for an edit: the file must exist. */
export async function readForEdit(target: Target, max: number): Promise<TextRead> {
  if (!target.exists) return { kind: "refused", reason: `${target.relative} does not exist; use create` };
  return readText(target, max);
}

/**
 * Writes `text` to the resolved file: replaces an existing regular file without following a link
 * at its last component, or creates a new one (parents one by one, then O_EXCL). Returns a reason
 * when the path changed into something else since it was resolved, else undefined.
 */
export async function writeText(root: string, target: Target, text: string): Promise<string | undefined> {
  let fh;
  const owner = target.exists ? undefined : await ownerToGive(root);
  try {
    if (!target.exists) await makeParents(root, target.relative, owner);
    fh = await openNoFollow(target.real, target.exists ? "replace" : "create");
    if (owner) await fh.chown(owner.uid, owner.gid);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "EEXIST") return `${target.relative} changed while it was being written (a symbolic link or a new file appeared); view it again`;
    if (code === "EISDIR") return `${target.relative} is a directory`;
    if (err instanceof Error && / is not a directory$/.test(err.message)) return err.message;
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return `${target.relative} is not a regular file`;
    // A hard link made by a script could lead anywhere on the same file system.
    if (st.nlink > 1) return `${target.relative} has several hard links; the tools do not write it`;
    await fh.truncate(0);
    await fh.writeFile(text);
    return undefined;
  } finally {
    await fh.close();
  }
}

type Owner = { uid: number; gid: number };

/**
 * Who new files and directories must belong to: the checkout's owner when the runner (root)
 * created them in a checkout that belongs to the sandbox user, so that user's checks and scripts
 * can still change them; undefined when nothing needs changing.
 */
async function ownerToGive(root: string): Promise<Owner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const st = await lstat(root);
  return st.uid === 0 && st.gid === 0 ? undefined : { uid: st.uid, gid: st.gid };
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

/** `text` with the workspace's paths (its real path and any other spelling of it) shown as {@link VIRTUAL_ROOT}, so no answer reveals them. */
export function hideRoot(text: string, roots: readonly string[]): string {
  let out = text;
  for (const r of [...roots].sort((a, b) => b.length - a.length)) if (r.length > 1) out = out.split(r).join(VIRTUAL_ROOT);
  return out;
}

function ok(realRoot: string, parts: string[], exists: boolean): ResolvedPath {
  return { kind: "ok", real: path.join(realRoot, ...parts), relative: parts.length === 0 ? "." : parts.join("/"), exists };
}

function refused(reason: string): ResolvedPath {
  return { kind: "refused", reason };
}
