/**
 * The runner's git workspace: clone (partial and shallow), branch, stage, diff, commit, push.
 * Credentials travel only as a per-command `http.extraheader` in the environment of that one
 * git process (GIT_CONFIG_* variables): never in a URL, `.git/config`, argv, or a log line.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import type { DiffStats } from "../core/job.ts";

/** Supplies a token for git over HTTPS (a GitHub token or an App installation token), if any. */
export type GitTokenSource = () => Promise<string | undefined>;

/** What a clone can end in; only `ok` carries a usable checkout. */
export type CloneResult =
  | { kind: "ok"; baseBranch: string; baseSha: string }
  | { kind: "failed"; reason: string };

export type Workspace = {
  dir: string;
  clone(opts: { url: string; repository: string; baseBranch?: string; depth?: number }, signal: AbortSignal): Promise<CloneResult>;
  /** Creates (or resets) `branch` at HEAD and checks it out. */
  checkoutNewBranch(branch: string, signal: AbortSignal): Promise<void>;
  /** Stages every change (new, modified, deleted files) and returns the staged file count. */
  stageAll(signal: AbortSignal): Promise<number>;
  /** Paths (relative to the checkout) of the staged files that were added or modified, not deleted. */
  changedFiles(signal: AbortSignal): Promise<string[]>;
  /** Commits what is staged with fixed dates (so a retried runner makes the same commit) and returns its SHA. */
  commit(message: string, date: string, signal: AbortSignal): Promise<string>;
  /** The unified diff and stats between `from` and `to`. */
  diff(from: string, to: string, signal: AbortSignal): Promise<{ patch: string; stats: DiffStats }>;
  /** The commit `branch` points at on the remote, or undefined when it has no such branch (or cannot be read). */
  remoteBranchSha(url: string, branch: string, signal: AbortSignal): Promise<string | undefined>;
  /** Force-pushes `branch` (our own `cody/<jobId>` branch: a retried runner replaces its earlier push). */
  push(url: string, branch: string, signal: AbortSignal): Promise<{ kind: "ok" } | { kind: "failed"; reason: string }>;
};

const IDENTITY = { name: "Cody Batch", email: "cody-batch@users.noreply.github.com" };

/**
 * A workspace in `dir` (empty or absent). `home` is a private HOME for git so nothing from the
 * runner's own git configuration applies.
 */
export function newWorkspace(opts: { dir: string; home: string; token?: GitTokenSource; timeoutMs?: number }): Workspace {
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: opts.home,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    LANG: "C",
  };

  async function envFor(url: string): Promise<Record<string, string>> {
    if (!/^https?:\/\//.test(url) || !opts.token) return baseEnv;
    const token = await opts.token();
    if (!token) return baseEnv;
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    return { ...baseEnv, GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraheader", GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
  }

  let pristineConfig: string | undefined;
  let staged: { status: string; path: string }[] | undefined;
  const git = (env: Record<string, string>, signal: AbortSignal, cwd = opts.dir): SimpleGit =>
    simpleGit({
      baseDir: cwd,
      abort: signal,
      timeout: { block: opts.timeoutMs ?? 300_000 },
      // Our own variables only (the guard strips any GIT_* inherited from the runner's environment).
      allowEnvironment: Object.keys(env).filter((k) => k.startsWith("GIT_")),
      // The credential header travels as GIT_CONFIG_COUNT/KEY/VALUE of this one process.
      // core.hooksPath and GIT_CONFIG_GLOBAL point at /dev/null, which simple-git guards too.
      unsafe: { allowUnsafeHooksPath: true, allowUnsafeConfigPaths: true, ...(env.GIT_CONFIG_COUNT ? { allowUnsafeConfigEnvCount: true } : {}) },
      // Hooks a script may have written never run inside our git commands.
      config: [`user.name=${IDENTITY.name}`, `user.email=${IDENTITY.email}`, "advice.detachedHead=false", "init.defaultBranch=main", "core.hooksPath=/dev/null"],
    }).env(env);

  return {
    dir: opts.dir,

    async clone({ url, repository, baseBranch, depth }, signal) {
      const args = ["--no-tags", "--single-branch", "--depth", String(depth ?? 1), "--filter=blob:none"];
      if (baseBranch) args.push("--branch", baseBranch);
      try {
        await git(await envFor(url), signal, "/").clone(url, opts.dir, args);
        pristineConfig = await readFile(join(opts.dir, ".git", "config"), "utf8");
      } catch (err) {
        if (signal.aborted) throw err;
        return { kind: "failed", reason: cloneReason(errorText(err), repository, baseBranch) };
      }
      // Spawning git dominates on small repositories: read HEAD from .git when it is plain, ask git otherwise.
      let { sha: baseSha, branch: head } = await readHead(opts.dir);
      if (!baseSha || !head) {
        try {
          [baseSha = "", head = ""] = (await git(baseEnv, signal).raw(["rev-parse", "HEAD", "--abbrev-ref", "HEAD"])).trim().split("\n").map((l) => l.trim());
        } catch {
          return { kind: "failed", reason: `${repository} is empty (no commits on its default branch)` };
        }
      }
      const branch = baseBranch ?? head;
      return { kind: "ok", baseBranch: branch, baseSha };
    },

    async checkoutNewBranch(branch, signal) {
      await git(baseEnv, signal).raw(["checkout", "-B", branch]);
    },

    async stageAll(signal) {
      const g = git(baseEnv, signal);
      await g.raw(["add", "--all"]);
      staged = parseNameStatus(await g.raw(["diff", "--cached", "--name-status", "--no-renames", "-z"]));
      return staged.length;
    },

    async changedFiles(signal) {
      if (!staged) staged = parseNameStatus(await git(baseEnv, signal).raw(["diff", "--cached", "--name-status", "--no-renames", "-z"]));
      return staged.filter((f) => f.status !== "D").map((f) => f.path);
    },

    async commit(message, date, signal) {
      const env = { ...baseEnv, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
      const g = git(env, signal);
      await g.raw(["commit", "--no-verify", "--no-gpg-sign", "-q", "-m", message]);
      return (await readHead(opts.dir)).sha ?? (await g.revparse(["HEAD"])).trim();
    },

    async diff(from, to, signal) {
      const g = git(baseEnv, signal);
      // One git process: numstat lines, an empty line, then the patch exactly as plain `git diff` prints it.
      const out = await g.raw(["diff", "--no-color", "--no-ext-diff", "--numstat", "--patch", from, to]);
      const cut = out.indexOf("\n\n");
      const numstat = cut >= 0 ? out.slice(0, cut) : out;
      const patch = cut >= 0 ? out.slice(cut + 2) : "";
      const stats: DiffStats = { files: 0, additions: 0, deletions: 0 };
      for (const line of numstat.split("\n").filter(Boolean)) {
        const [a, d] = line.split("\t");
        stats.files += 1;
        stats.additions += a === "-" ? 0 : Number(a);
        stats.deletions += d === "-" ? 0 : Number(d);
      }
      return { patch, stats };
    },

    async remoteBranchSha(url, branch, signal) {
      try {
        const out = await git(await envFor(url), signal).raw(["ls-remote", "--heads", url, `refs/heads/${branch}`]);
        const sha = out.trim().split(/\s+/)[0];
        return sha && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
      } catch (err) {
        if (signal.aborted) throw err;
        return undefined;
      }
    },

    async push(url, branch, signal) {
      try {
        // The person's script could have edited .git/config (url.*.insteadOf, http.proxy, include …)
        // to send our credential elsewhere: push with the configuration the clone wrote.
        if (pristineConfig !== undefined) await writeFile(join(opts.dir, ".git", "config"), pristineConfig);
        await git(await envFor(url), signal).raw(["push", "--force", "--no-verify", url, `HEAD:refs/heads/${branch}`]);
        return { kind: "ok" };
      } catch (err) {
        if (signal.aborted) throw err;
        return { kind: "failed", reason: pushReason(errorText(err)) };
      }
    },
  };
}

/** `git diff --name-status -z` output as entries (renames are off, so one path each). */
function parseNameStatus(out: string): { status: string; path: string }[] {
  const parts = out.split("\0").filter(Boolean);
  const entries: { status: string; path: string }[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) entries.push({ status: parts[i]!, path: parts[i + 1]! });
  return entries;
}

/**
 * HEAD's commit and branch read from `.git` (HEAD → a loose ref, as a fresh clone and a commit
 * leave them); fields are undefined when it is not that simple (detached, packed, missing).
 */
async function readHead(dir: string): Promise<{ sha?: string; branch?: string }> {
  try {
    const head = (await readFile(join(dir, ".git", "HEAD"), "utf8")).trim();
    const ref = /^ref: (refs\/heads\/[^\s]+)$/.exec(head)?.[1];
    if (!ref) return {};
    const sha = (await readFile(join(dir, ".git", ref), "utf8")).trim();
    return /^[0-9a-f]{40}$/.test(sha) ? { sha, branch: ref.slice("refs/heads/".length) } : {};
  } catch {
    return {};
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A short human reason for a failed clone; never quotes a URL (it could hold credentials). */
export function cloneReason(stderr: string, repository: string, baseBranch?: string): string {
  const s = stderr.toLowerCase();
  if (baseBranch && (s.includes("remote branch") || s.includes("not found in upstream")))
    return `base branch ${baseBranch} does not exist in ${repository}`;
  if (s.includes("not found") || s.includes("does not exist") || s.includes("does not appear to be a git repository"))
    return `repository ${repository} not found (or the token cannot read it)`;
  if (s.includes("authentication failed") || s.includes("could not read username") || s.includes("403"))
    return `no read access to ${repository} (check GITHUB_TOKEN or the GitHub App installation)`;
  if (s.includes("timed out") || s.includes("timeout")) return `cloning ${repository} timed out`;
  return `clone of ${repository} failed: ${firstLine(stderr)}`;
}

function pushReason(stderr: string): string {
  const s = stderr.toLowerCase();
  if (s.includes("403") || s.includes("permission") || s.includes("denied") || s.includes("authentication failed"))
    return "token has no push access";
  if (s.includes("protected branch") || s.includes("hook declined")) return "push refused by the remote (protected branch or hook)";
  return `push failed: ${firstLine(stderr)}`;
}

function firstLine(text: string): string {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith("Cloning into")) ?? "unknown error";
  return (line.length > 200 ? `${line.slice(0, 197)}...` : line).replace(/https?:\/\/[^\s]+/g, "<url>");
}
