/**
 * The runner's git workspace: clone (partial and shallow), stage, diff, commit, push.
 *
 * Two git directories: the checkout keeps its own `.git` for scripts that want git, and the
 * runner keeps one made right after the clone, outside the checkout (mode 0700), before any
 * script or model touches anything: its small files copied, its object store hard-linked (no
 * copy of the packs; see privateGitDir for why a command still cannot change them). Every git command of the runner names that copy explicitly
 * (GIT_DIR, GIT_COMMON_DIR, GIT_OBJECT_DIRECTORY, GIT_WORK_TREE) and turns off what could run
 * code (`core.fsmonitor`, hooks, attribute and exclude files), so nothing in the checkout — its
 * `.git/config`, `commondir`, hooks, alternates, `info/attributes` — can redirect the push or run
 * anything in the runner. The runner stages the worktree against the base in its own directory:
 * whatever a script committed, the branch holds exactly one commit above the base.
 *
 * Credentials travel only as a per-command `http.extraheader` in the environment of that one
 * git process (GIT_CONFIG_* variables): never in a URL, a `.git/config`, argv, or a log line.
 */
import { execFile } from "node:child_process";
import { chmod, copyFile, link, lstat, mkdir, readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { DiffStats } from "../core/jobs/index.ts";
import { cloneReason, firstLine } from "./clone-reason.ts";
import { isGitName } from "./agent/paths.ts";
import { truncate } from "./repo-caps.ts";

/** Supplies a token for git over HTTPS (a GitHub token or an App installation token), if any. */
export type GitTokenSource = () => Promise<string | undefined>;

/** What a clone can end in; only `ok` carries a usable checkout. */
export type CloneResult =
  | { kind: "ok"; baseBranch: string; baseSha: string }
  | { kind: "failed"; reason: string };

/** What staging the worktree found: the number of changed files, or why the change cannot be committed. */
export type StageResult = { kind: "staged"; files: number } | { kind: "refused"; reason: string };

export type Workspace = {
  dir: string;
  /** The runner's own git directory (outside the checkout). */
  gitDir: string;
  clone(opts: { url: string; repository: string; baseBranch?: string; depth?: number }, signal: AbortSignal): Promise<CloneResult>;
  /**
   * Stages the worktree against the base in the runner's git directory (new, modified, deleted
   * files). Refuses paths git itself refuses (`.GIT/…`, `.git./…`), nested git repositories and
   * submodule changes, with a reason for people.
   */
  stageAll(signal: AbortSignal): Promise<StageResult>;
  /** Paths (relative to the checkout) of the staged files that were added or modified, not deleted. */
  changedFiles(signal: AbortSignal): Promise<string[]>;
  /** The staged change as a patch against HEAD (what the scope judge reads before the commit). */
  stagedPatch(signal: AbortSignal): Promise<string>;
  /** Commits what is staged with fixed dates (so a retried runner makes the same commit) and returns its SHA. */
  commit(message: string, date: string, signal: AbortSignal): Promise<string>;
  /**
   * The unified diff and stats between `from` and `to` (the commit made from the last staging),
   * from one git process, and `added`: what the change adds, for the secret check — the added and
   * modified paths, every added line, and the whole content of each changed file the patch shows
   * no lines of (binary, or marked so by an attribute).
   */
  diff(from: string, to: string, signal: AbortSignal): Promise<{ patch: string; stats: DiffStats; added: string }>;
  /** The commit `branch` points at on the remote, or undefined when it has no such branch (or cannot be read). */ remoteBranchSha(url: string, branch: string, signal: AbortSignal): Promise<string | undefined>;
  /** Force-pushes HEAD as `branch` (a retried runner replaces its push); with `lease`, only while the remote is at that commit (runner/branch-head.ts); with `force: false`, only when the remote branch is an ancestor (healing). */ push(url: string, branch: string, signal: AbortSignal, opts?: { lease?: string; force?: boolean }): Promise<{ kind: "ok" } | { kind: "failed"; reason: string }>;
  /** The runner's own git on its git directory and checkout (the token for `url` when given); resolves with stdout. */ run(args: string[], signal: AbortSignal, url?: string): Promise<string>;
};

const IDENTITY = { name: "Cody Batch", email: "cody-batch@users.noreply.github.com" };

/** `-c` options of every runner git command: identity, and nothing from anywhere else that could run code. */
const SAFE_CONFIG = [
  `user.name=${IDENTITY.name}`,
  `user.email=${IDENTITY.email}`,
  "advice.detachedHead=false",
  "init.defaultBranch=main",
  "core.quotepath=off",
  "core.fsmonitor=false",
  "core.hooksPath=/dev/null",
  "core.attributesFile=/dev/null",
  "core.excludesFile=/dev/null",
  "commit.gpgSign=false",
  "submodule.recurse=false",
  "protocol.ext.allow=never",
  // No `git maintenance run --auto` after a fetch or commit: one more process per repository, for a checkout removed minutes later.
  "maintenance.auto=false",
  "gc.auto=0",
  // The checkout belongs to the sandbox user once scripts run; the runner's own git still works there.
  "safe.directory=*",
].flatMap((kv) => ["-c", kv]);

/**
 * A workspace: the checkout `dir` (empty or absent), the runner's git directory `gitDir` (absent;
 * created 0700 next to nothing the checkout can reach) and `home`, a private HOME for the
 * runner's git (never the HOME scripts get), so no user or repository configuration applies.
 */
export function newWorkspace(opts: { dir: string; gitDir: string; home: string; token?: GitTokenSource; timeoutMs?: number }): Workspace {
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: opts.home,
    XDG_CONFIG_HOME: opts.home,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    LANG: "C",
  };
  const repoEnv: Record<string, string> = {
    ...baseEnv,
    GIT_DIR: opts.gitDir,
    GIT_COMMON_DIR: opts.gitDir,
    GIT_OBJECT_DIRECTORY: join(opts.gitDir, "objects"),
    GIT_INDEX_FILE: join(opts.gitDir, "index"),
    GIT_WORK_TREE: opts.dir,
  };

  async function withToken(env: Record<string, string>, url: string): Promise<Record<string, string>> {
    if (!/^https?:\/\//.test(url) || !opts.token) return env;
    const token = await opts.token();
    if (!token) return env;
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    return { ...env, GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraheader", GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
  }

  const git = (args: string[], env: Record<string, string>, signal: AbortSignal, cwd = opts.gitDir) =>
    runGit([...SAFE_CONFIG, ...args], { cwd, env, signal, timeoutMs: opts.timeoutMs ?? 300_000 });

  // What the last staging holds against the base (HEAD of the runner's git directory): its entries,
  // and the patch the commit made from it will have — read by one git process.
  let staged: StagedDiff | undefined;
  const readStaged = async (signal: AbortSignal) =>
    parseStagedDiff(await git(["diff", "--cached", "--raw", "-z", "--numstat", "--patch", "--no-abbrev", "--no-color", "--no-ext-diff", "--no-textconv"], repoEnv, signal));
  const changedFiles = async (signal: AbortSignal) => {
    staged ??= await readStaged(signal);
    return staged.entries.filter((f) => f.status !== "D").map((f) => f.path);
  };
  const diffOf = async (d: StagedDiff) => {
    const files = d.entries.filter((f) => f.status !== "D").map((f) => f.path);
    const { lines, shown } = addedLines(d.patch);
    // Nothing runs in the checkout between staging and here: its files are what was committed.
    const whole = await Promise.all(files.filter((f) => !shown.has(f)).map((f) => regularFileText(join(opts.dir, f))));
    return { patch: d.patch, stats: d.stats, added: [...files, ...lines, ...whole].join("\n") };
  };

  return {
    dir: opts.dir,
    gitDir: opts.gitDir,

    async clone({ url, repository, baseBranch, depth }, signal) {
      // A partial clone (no blobs) pays off only with history: at depth 1 the checkout needs every
      // blob of the one commit, which --filter=blob:none fetches in a second round trip (5 processes more).
      const args = ["clone", "--no-tags", "--single-branch", "--depth", String(depth ?? 1), ...((depth ?? 1) > 1 ? ["--filter=blob:none"] : [])];
      if (baseBranch) args.push("--branch", baseBranch);
      try {
        await git([...args, "--", url, opts.dir], await withToken(baseEnv, url), signal, "/");
      } catch (err) {
        if (signal.aborted) throw err;
        return { kind: "failed", reason: cloneReason(errorText(err), repository, baseBranch, { url, token: opts.token !== undefined }) };
      }
      // Nothing has run in the checkout yet: its .git is exactly what the clone wrote. The runner
      // keeps a git directory of its own made from it (the object store hard-linked, see privateGitDir).
      await mkdir(dirname(opts.gitDir), { recursive: true, mode: 0o700 });
      await privateGitDir(join(opts.dir, ".git"), opts.gitDir);
      await mkdir(opts.home, { recursive: true, mode: 0o700 });
      // Spawning git dominates on small repositories: read HEAD from the git directory when it is plain, ask git otherwise.
      let { sha: baseSha, branch: head } = await readHead(opts.gitDir);
      if (!baseSha || !head) {
        try {
          [baseSha = "", head = ""] = (await git(["rev-parse", "HEAD", "--abbrev-ref", "HEAD"], repoEnv, signal)).trim().split("\n").map((l) => l.trim());
        } catch {
          return { kind: "failed", reason: `${repository} is empty (no commits on its default branch)` };
        }
      }
      return { kind: "ok", baseBranch: baseBranch ?? head, baseSha };
    },

    async stageAll(signal) {
      // Tracked and untracked paths as git sees them (ignored ones left out): a nested repository shows as "dir/".
      const paths = (await git(["ls-files", "--cached", "--others", "--exclude-standard", "-z"], repoEnv, signal)).split("\0").filter(Boolean);
      const refusal = await unsafePath(opts.dir, paths);
      if (refusal) return { kind: "refused", reason: refusal };
      await git(["add", "--all"], repoEnv, signal);
      staged = { ...(await readStaged(signal)), base: (await readHead(opts.gitDir)).sha };
      const gitlink = staged.entries.find((e) => e.newMode === "160000" || e.oldMode === "160000");
      if (gitlink) return { kind: "refused", reason: `the change touches the submodule ${truncate(gitlink.path, 200)} (Cody Batch does not commit submodule changes)` };
      return { kind: "staged", files: staged.entries.length };
    },

    changedFiles,
    stagedPatch: (signal) => git(["diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv", "--patch"], repoEnv, signal),
    async commit(message, date, signal) {
      await git(["commit", "--no-verify", "--no-gpg-sign", "-q", "-m", message], { ...repoEnv, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }, signal);
      const sha = (await readHead(opts.gitDir)).sha ?? (await git(["rev-parse", "HEAD"], repoEnv, signal)).trim();
      if (staged) staged.commit = sha;
      return sha;
    },

    async diff(from, to, signal) {
      // The commit was made from the last staging, whose diff against the base is read already: no git process.
      if (staged && staged.base === from && staged.commit === to) return diffOf(staged);
      const out = await git(["diff", "--raw", "-z", "--numstat", "--patch", "--no-abbrev", "--no-color", "--no-ext-diff", "--no-textconv", from, to], repoEnv, signal);
      return diffOf(parseStagedDiff(out));
    },

    async remoteBranchSha(url, branch, signal) {
      try {
        const out = await git(["ls-remote", "--heads", url, `refs/heads/${branch}`], await withToken(repoEnv, url), signal);
        const sha = out.trim().split(/\s+/)[0];
        return sha && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
      } catch (err) {
        if (signal.aborted) throw err;
        return undefined;
      }
    },

    run: async (args, signal, url) => git(args, url ? await withToken(repoEnv, url) : repoEnv, signal),
    async push(url, branch, signal, pushOpts) {
      try {
        await git(["push", ...(pushOpts?.lease ? [`--force-with-lease=refs/heads/${branch}:${pushOpts.lease}`] : pushOpts?.force === false ? [] : ["--force"]), "--no-verify", "--no-recurse-submodules", url, `HEAD:refs/heads/${branch}`], await withToken(repoEnv, url), signal);
        return { kind: "ok" };
      } catch (err) {
        if (signal.aborted) throw err;
        return { kind: "failed", reason: pushReason(errorText(err)) };
      }
    },
  };
}

/**
 * The runner's git directory `dst` made from a fresh clone's `src` (`.git` before anything ran in
 * the checkout), without copying the object store: every file under `objects/` that others may read is hard-linked —
 * git never writes an object or pack file in place, and these files, linked twice, are never given
 * to a sandbox user (runner/sandbox.ts leaves files with more than one link to the runner), so a
 * command can replace its own `.git/objects/…` names but not change what the runner's names read.
 * `HEAD`, `config`, `shallow`, `packed-refs`, `index` and `refs/` are copied (the runner's git
 * rewrites them); hooks, logs, `info/` and `description` stay behind (the runner needs none).
 */
export async function privateGitDir(src: string, dst: string): Promise<void> {
  await mkdir(dst, { mode: 0o700 });
  await chmod(dst, 0o700);
  await Promise.all(["HEAD", "config", "shallow", "packed-refs", "index"].map((f) => copyFile(join(src, f), join(dst, f)).catch((err: NodeJS.ErrnoException) => { if (err.code !== "ENOENT") throw err; })));
  await mirrorTree(join(src, "refs"), join(dst, "refs"), copyFile);
  // A file others cannot read (git makes `.promisor` files 0600) is copied: a linked one would stay the runner's, unreadable to the sandbox user's git.
  await mirrorTree(join(src, "objects"), join(dst, "objects"), async (from, to) => ((await lstat(from)).mode & 0o004 ? link(from, to) : copyFile(from, to)));
}

/** `dst` made like `src`: its directories created, each regular file put there by `put` (copy or link); links and other entries skipped. */
async function mirrorTree(src: string, dst: string, put: (from: string, to: string) => Promise<void>): Promise<void> {
  await mkdir(dst, { recursive: true });
  const entries = await readdir(src, { withFileTypes: true }).catch(() => []);
  await Promise.all(
    entries.map((e) => {
      const [from, to] = [join(src, e.name), join(dst, e.name)];
      if (e.isDirectory()) return mirrorTree(from, to, put);
      return e.isFile() ? put(from, to) : undefined;
    }),
  );
}

/**
 * Runs git and resolves with its stdout; rejects with an Error whose message is git's stderr
 * (never its command line: it may hold a URL), or the abort/timeout reason.
 */
function runGit(args: string[], opts: { cwd: string; env: Record<string, string>; signal: AbortSignal; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", args, { cwd: opts.cwd, env: opts.env, signal: opts.signal, timeout: opts.timeoutMs, maxBuffer: 512 * 1024 ** 2, encoding: "utf8" }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const killed = (err as { killed?: boolean }).killed && !opts.signal.aborted;
      reject(new Error(killed ? `git timed out after ${opts.timeoutMs} ms` : String(stderr).trim() || `git exited with ${String((err as { code?: unknown }).code)}`, { cause: err }));
    });
  });
}

/**
 * Why the worktree cannot be committed as it is, or undefined: a nested repository (`dir/` in
 * `paths`, from `git ls-files`), a path git refuses (a `.git` component in another spelling), or a
 * `.git` entry below the top (git would silently leave it out). Only directories that hold a listed
 * path are read, so ignored trees (node_modules) are not walked.
 */
async function unsafePath(root: string, paths: string[]): Promise<string | undefined> {
  const dirs = new Set<string>();
  for (const p of paths) {
    if (p.endsWith("/")) return `the change adds a nested git repository at ${truncate(p.slice(0, -1), 200)} (Cody Batch does not commit nested repositories or submodules; remove its .git or ignore it)`;
    if (p.split("/").some(isGitName)) return `the change creates ${truncate(p, 200)}, a path git refuses to commit (a .git directory in another spelling)`;
    for (let d = dirname(p); d !== "." && !dirs.has(d); d = dirname(d)) dirs.add(d);
  }
  for (const d of dirs) {
    // A script may have replaced a directory with a link: never read through it.
    if (!(await lstat(join(root, d)).catch(() => undefined))?.isDirectory()) continue;
    const names = await readdir(join(root, d)).catch(() => [] as string[]);
    const git = names.find(isGitName);
    if (git) return `the change creates ${truncate(`${d}/${git}`, 200)}, a .git inside the repository (git would not commit it; remove it)`;
  }
  return undefined;
}

/**
 * The added lines of a unified patch (the `+` lines inside hunks, headers excluded) and the
 * paths (as `+++ b/<path>` names them, unquoted ones only) the patch shows lines of.
 */
export function addedLines(patch: string): { lines: string[]; shown: Set<string> } {
  const lines: string[] = [];
  const shown = new Set<string>();
  let inHunk = false;
  for (const line of patch.split("\n")) {
    if (line.startsWith("diff --git ")) inHunk = false;
    else if (line.startsWith("@@ ")) inHunk = true;
    else if (inHunk && line.startsWith("+")) lines.push(line.slice(1));
    else if (!inHunk && line.startsWith("+++ b/")) shown.add(line.slice("+++ b/".length).replace(/\t$/, "")); // git ends a name holding a space with a tab
  }
  return { lines, shown };
}

/** The content of `path` when it is a regular file (never through a link), else "". */
async function regularFileText(path: string): Promise<string> {
  const st = await lstat(path).catch(() => undefined);
  return st?.isFile() ? readFile(path, "utf8").catch(() => "") : "";
}

type StagedEntry = { status: string; path: string; oldMode: string; newMode: string };

/** A diff as the runner reads it: entries (raw), stats (numstat), the patch; `base`/`commit` name what it is between, when known. */
type StagedDiff = { entries: StagedEntry[]; stats: DiffStats; patch: string; base?: string; commit?: string };

/**
 * `git diff --raw -z --numstat --patch` output as one value: raw entries
 * (`:old new sha sha status\0path\0`, two paths for a rename or copy), numstat records
 * (`added\tdeleted\tpath\0`, or `…\t\0from\0to\0`), an empty record, then the patch exactly as
 * plain `git diff` prints it.
 */
export function parseStagedDiff(out: string): { entries: StagedEntry[]; stats: DiffStats; patch: string } {
  const cut = out.indexOf("\0\0");
  const head = (cut >= 0 ? out.slice(0, cut) : out).split("\0");
  const patch = cut >= 0 ? out.slice(cut + 2) : "";
  const entries: StagedEntry[] = [];
  const stats: DiffStats = { files: 0, additions: 0, deletions: 0 };
  for (let i = 0; i < head.length; ) {
    const token = head[i]!;
    if (token.startsWith(":")) {
      const [oldMode = "", newMode = "", , , status = ""] = token.slice(1).split(" ");
      const two = /^[RC]/.test(status);
      entries.push({ status: status.slice(0, 1), path: head[i + (two ? 2 : 1)] ?? "", oldMode, newMode });
      i += two ? 3 : 2;
      continue;
    }
    const num = /^(\d+|-)\t(\d+|-)\t([\s\S]*)$/.exec(token);
    if (num) {
      stats.files += 1;
      stats.additions += num[1] === "-" ? 0 : Number(num[1]);
      stats.deletions += num[2] === "-" ? 0 : Number(num[2]);
      i += num[3] === "" ? 3 : 1;
      continue;
    }
    i += 1;
  }
  return { entries, stats, patch };
}

/**
 * HEAD's commit and branch read from a git directory (HEAD → a loose ref, as a fresh clone and a
 * commit leave them); fields are undefined when it is not that simple (detached, packed, missing).
 */
async function readHead(gitDir: string): Promise<{ sha?: string; branch?: string }> {
  try {
    const head = (await readFile(join(gitDir, "HEAD"), "utf8")).trim();
    const ref = /^ref: (refs\/heads\/[^\s]+)$/.exec(head)?.[1];
    if (!ref) return {};
    const sha = (await readFile(join(gitDir, ref), "utf8")).trim();
    return /^[0-9a-f]{40}$/.test(sha) ? { sha, branch: ref.slice("refs/heads/".length) } : {};
  } catch {
    return {};
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function pushReason(stderr: string): string {
  const s = stderr.toLowerCase();
  if (s.includes("403") || s.includes("permission") || s.includes("denied") || s.includes("authentication failed"))
    return "token has no push access";
  if (s.includes("protected branch") || s.includes("hook declined")) return "push refused by the remote (protected branch or hook)";
  return `push failed: ${firstLine(stderr)}`;
}
