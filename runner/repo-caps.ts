/**
 * Caps on one repository's work (issue: bounded work) and the attempt's working directory. Each
 * cap ends the repository with a reason that names the setting to change.
 */
import { chmod, lstat, mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
// Only the one method of a Workspace (workspace.ts) this file needs: workspace.ts imports truncate from here.
type ChangedFiles = { changedFiles(signal: AbortSignal): Promise<string[]> };

/** Default caps; MAX_CHANGED_FILES, MAX_REPO_MB and MAX_FILE_KB override them (core/config/config.ts). */
export const DEFAULT_MAX_CHANGED_FILES = 2000;
export const DEFAULT_MAX_REPO_BYTES = 2 * 1024 ** 3;
export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 ** 2;

/**
 * A reason when the checkout (working tree and .git) holds more than `max` bytes, else
 * undefined. Stops walking as soon as the cap is passed; symbolic links are not followed.
 */
export async function checkoutTooBig(dir: string, max: number): Promise<string | undefined> {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0 && total <= max) {
    const d = stack.pop()!;
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) total += (await lstat(p)).size;
      if (total > max) break;
    }
  }
  if (total <= max) return undefined;
  return `the repository is larger than ${formatBytes(max)} after cloning (MAX_REPO_MB)`;
}

/** A reason when a changed (added or modified) file is larger than `max` bytes, else undefined. */
export async function changedFileTooBig(ws: ChangedFiles, root: string, max: number, signal: AbortSignal): Promise<string | undefined> {
  for (const path of await ws.changedFiles(signal)) {
    const st = await lstat(join(root, path)).catch(() => undefined);
    if (st?.isFile() && st.size > max) {
      return `the change makes ${truncate(path, 200)} ${formatBytes(st.size)}; at most ${formatBytes(max)} per file (MAX_FILE_KB)`;
    }
  }
  return undefined;
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

/**
 * The attempt's own empty directory `<parent>/cody-<jobId>-<index>-a<attempt>`. Directories of
 * earlier attempts of the same repository (left behind by a killed runner) are removed first, so
 * every attempt starts from a clean checkout and crashes leave no garbage behind.
 */
export async function freshWorkDir(parent: string, jobId: string, index: number, attempt: number): Promise<string> {
  const prefix = `cody-${jobId}-${index}-a`;
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(prefix) && Number(name.slice(prefix.length)) <= attempt) {
      await rm(join(parent, name), { recursive: true, force: true });
    }
  }
  await searchableByOthers(parent);
  const dir = join(parent, `${prefix}${attempt}`);
  // Closed to other users: a sandboxed command's uid gets to pass (0710, its group) only while
  // it runs (runner/sandbox.ts), and reaches its checkout and HOME, nothing else of the runner's.
  await mkdir(dir, { recursive: true, mode: 0o711 });
  await chmod(dir, 0o710);
  return dir;
}

/** Lets other users (a sandboxed command) pass through `dir` when this process owns it: search, not list. */
async function searchableByOthers(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st && st.uid === process.getuid?.() && (st.mode & 0o001) === 0) await chmod(dir, (st.mode & 0o7777) | 0o001);
}

/** `s` cut to at most `n` characters, with an ellipsis when cut. */
export function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
