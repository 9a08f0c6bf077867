/**
 * Attacks on the agent's path confinement, as a repository could ship them (symbolic links,
 * dangling ones included) and a prompt-injected model could call the text editor: nothing is
 * read or written through a link, nothing lands outside the checkout or in any `.git` variant,
 * and no answer reveals where the checkout really is.
 */
import { execFileSync } from "node:child_process";
import { cp, stat } from "node:fs/promises";
import { chown, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isGitName, resolveInWorkspace } from "./paths.ts";
import { callTool, newTools, type Tool, type ToolOutput } from "./tools.ts";

let base: string;
let root: string;
let outside: string;
let tools: Tool[];
const signal = new AbortController().signal;
const EDITOR = "str_replace_based_edit_tool";

async function edit(input: Record<string, unknown>): Promise<ToolOutput> {
  return callTool(tools.find((t) => t.name === EDITOR)!, input, signal);
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), "cody-paths-")));
  root = path.join(base, "repo");
  outside = path.join(base, "outside");
  await mkdir(path.join(root, "src"), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(root, "src", "a.ts"), "export const a = 1;\n");
  execFileSync("git", ["init", "-q"], { cwd: root });
  // What a hostile repository can ship: links that dangle into .git, chains that climb out,
  // absolute targets, a link to a directory inside.
  await symlink(".git/commondir", path.join(root, "gd"));
  await symlink(".git/hooks", path.join(root, "hooks-link"));
  await symlink("b", path.join(root, "a"));
  await symlink("../outside/chained.txt", path.join(root, "b"));
  await symlink(path.join(outside, "absolute.txt"), path.join(root, "abs"));
  await symlink("src", path.join(root, "src-link"));
  await symlink("a.ts", path.join(root, "src", "a-link.ts"));
  tools = newTools({ root, maxFileBytes: 4096 });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("git's own names for .git", () => {
  it.for([
    [".git", true],
    [".GIT", true],
    [".Git", true],
    [".git.", true],
    [".git ", true],
    [".git. . ", true],
    [".git::$INDEX_ALLOCATION", true],
    ["git~1", true],
    ["GIT~1", true],
    [".g\u200cit", true],
    ["\u200e.git", true],
    [".gi\ufefft", true],
    [".git\\config", true],
    [".gitignore", false],
    [".github", false],
    ["git", false],
    ["x.git", false],
    [".git-blame-ignore-revs", false],
  ] as const)("%j → %s", ([name, want]) => {
    expect(isGitName(name)).toBe(want);
  });
});

describe("resolveInWorkspace", () => {
  it.for([
    { name: "a dangling link into .git", given: "gd", want: /symbolic link/ },
    { name: "a path below a link to a directory inside", given: "src-link/a.ts", want: /symbolic link/ },
    { name: "a link to a file inside", given: "src/a-link.ts", want: /symbolic link/ },
    { name: "a chain of links that climbs out", given: "a", want: /symbolic link/ },
    { name: "a link with an absolute target", given: "/repo/abs", want: /symbolic link/ },
    { name: "a new file below a link to .git/hooks", given: "hooks-link/post-commit", want: /symbolic link/ },
    { name: "an upper-case .GIT", given: ".GIT/config", want: /\.git/ },
    { name: "a nested x/.git", given: "x/.git", want: /\.git/ },
    { name: "a nested .git directory's file", given: "vendor/lib/.git/config", want: /\.git/ },
    { name: "NTFS's trailing dot", given: ".git./config", want: /\.git/ },
    { name: "NTFS's trailing space", given: ".git /config", want: /\.git/ },
    { name: "NTFS's short name", given: "GIT~1/config", want: /\.git/ },
    { name: "an HFS-ignorable code point", given: ".g\u200cit/config", want: /\.git/ },
    { name: "a file used as a directory", given: "src/a.ts/b.ts", want: /not a directory/ },
  ])("refuses $name", async (tc) => {
    const r = await resolveInWorkspace(root, tc.given);
    expect(r.kind).toBe("refused");
    if (r.kind === "refused") {
      expect(r.reason).toMatch(tc.want);
      expect(r.reason).not.toContain(base);
    }
  });

  it("accepts plain paths, new ones included", async () => {
    expect(await resolveInWorkspace(root, "/repo/src/a.ts")).toEqual({ kind: "ok", real: path.join(root, "src/a.ts"), relative: "src/a.ts", exists: true });
    expect(await resolveInWorkspace(root, "src/new/x.ts")).toEqual({ kind: "ok", real: path.join(root, "src/new/x.ts"), relative: "src/new/x.ts", exists: false });
    expect(await resolveInWorkspace(root, ".")).toMatchObject({ kind: "ok", relative: ".", exists: true });
  });
});

describe("the text editor against a hostile checkout", () => {
  it("never writes through a dangling link into .git (the commondir attack)", async () => {
    const out = await edit({ command: "create", path: "gd", file_text: "../evil\n" });
    expect(out.ok).toBe(false);
    await expect(lstat(path.join(root, ".git", "commondir"))).rejects.toThrow(/ENOENT/);
    expect(await readlink(path.join(root, "gd"))).toBe(".git/commondir");
  });

  it.for([
    { name: "a chain of links", p: "a", file: "chained.txt" },
    { name: "an absolute link", p: "abs", file: "absolute.txt" },
  ])("never creates a file outside the checkout through $name", async (tc) => {
    for (const command of [{ command: "create", file_text: "pwned\n" }, { command: "str_replace", old_str: "x", new_str: "y" }, { command: "insert", insert_line: 0, insert_text: "y" }]) {
      const out = await edit({ ...command, path: tc.p });
      expect(out.ok, JSON.stringify(command)).toBe(false);
    }
    expect(await readdir(outside)).not.toContain(tc.file);
  });

  it.for([".GIT/config", "x/.git", "x/.git/config", ".git./config", "git~1/HEAD", ".g\u200cit/config"])("refuses to create %j", async (p) => {
    const out = await edit({ command: "create", path: p, file_text: "[core]\n\tfsmonitor = touch /tmp/pwned\n" });
    expect(out.ok).toBe(false);
    expect(out.content).toMatch(/\.git/);
    const top = p.split("/")[0]!;
    await expect(lstat(path.join(root, top === ".git" ? "never" : top))).rejects.toThrow(/ENOENT/);
  });

  it("does not follow a link planted after a view (writes refuse links at the last step)", async () => {
    await writeFile(path.join(root, "late.txt"), "x\n");
    expect((await edit({ command: "view", path: "late.txt" })).ok).toBe(true);
    await rm(path.join(root, "late.txt"));
    await symlink(path.join(outside, "late.txt"), path.join(root, "late.txt"));
    expect((await edit({ command: "create", path: "late.txt", file_text: "y\n" })).ok).toBe(false);
    expect(await readdir(outside)).not.toContain("late.txt");
  });

  it("neither reads nor writes a file hard-linked from outside (a script could have made one)", async () => {
    await writeFile(path.join(outside, "hard.txt"), "outside-content\n");
    await link(path.join(outside, "hard.txt"), path.join(root, "hard.txt"));
    expect((await edit({ command: "view", path: "hard.txt" })).ok).toBe(false);
    expect((await edit({ command: "create", path: "hard.txt", file_text: "pwned\n" })).ok).toBe(false);
    expect((await edit({ command: "str_replace", path: "hard.txt", old_str: "outside", new_str: "pwned" })).ok).toBe(false);
    expect(await readFile(path.join(outside, "hard.txt"), "utf8")).toBe("outside-content\n");
  });

  it("answers errors with /repo paths, never the real workspace path", async () => {
    const outs = [
      await edit({ command: "create", path: "src/a.ts/b.ts", file_text: "x" }),
      await edit({ command: "view", path: "src-link" }),
      await edit({ command: "create", path: "src", file_text: "x" }),
      await callTool(newTools({ root, maxFileBytes: 4096, verify: async () => ({ ok: false, output: `FAIL ${root}/src/a.ts:1` }) }).at(-1)!, {}, signal),
    ];
    for (const out of outs) expect(out.content).not.toContain(base);
    expect(outs.at(-1)!.content).toContain("FAIL /repo/src/a.ts:1");
  });

  it.skipIf(process.getuid?.() !== 0)("gives new files and directories to the checkout's owner (needs root: the runner is root, the checkout the sandbox user's)", async () => {
    const owned = path.join(base, "owned");
    await mkdir(owned);
    await chown(owned, 65534, 65534);
    const t = newTools({ root: owned, maxFileBytes: 4096 }).find((x) => x.name === EDITOR)!;
    expect((await callTool(t, { command: "create", path: "d/e/f.txt", file_text: "x\n" }, signal)).ok).toBe(true);
    for (const p of ["d", "d/e", "d/e/f.txt"]) expect((await lstat(path.join(owned, p))).uid, p).toBe(65534);
  });

  it("still edits a regular file and creates new directories", async () => {
    expect(await edit({ command: "create", path: "lib/deep/n.ts", file_text: "one\n" })).toEqual({ ok: true, content: "Created lib/deep/n.ts" });
    expect((await edit({ command: "str_replace", path: "lib/deep/n.ts", old_str: "one", new_str: "two" })).ok).toBe(true);
    expect(await readFile(path.join(root, "lib/deep/n.ts"), "utf8")).toBe("two\n");
    expect((await lstat(path.join(root, "lib/deep"))).isDirectory()).toBe(true);
  });
});

describe("the search tool against a doctored .git", () => {
  it("runs git with the runner's git directory: the checkout's .git is neither read nor needed", async () => {
    const src = path.join(base, "src");
    const w = path.join(base, "w");
    const runnerGit = path.join(base, "runner-git");
    const marker = path.join(base, "uploadpack-ran");
    const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=a", "-c", "user.email=a@b", ...args], { cwd, stdio: "pipe" });
    await mkdir(src);
    await writeFile(path.join(src, "a.txt"), "hello\n");
    git(src, "init", "-q");
    git(src, "add", "a.txt");
    git(src, "commit", "-qm", "i");
    git(src, "config", "uploadpack.allowFilter", "true");
    git(base, "clone", "-q", "--filter=blob:none", `file://${src}`, w);
    await cp(path.join(w, ".git"), runnerGit, { recursive: true });
    // What a script (or a check the model ran) can do to the checkout's own .git: an index entry
    // whose blob is missing, read from the object store, so git lazily fetches it from "origin".
    git(w, "update-index", "--add", "--cacheinfo", "100644,1234567890123456789012345678901234567890,evil.txt");
    git(w, "update-index", "--assume-unchanged", "evil.txt");
    git(w, "config", "remote.origin.uploadpack", `touch ${marker}; git-upload-pack`);
    await writeFile(path.join(w, ".git", "HEAD"), "garbage\n");
    const search = newTools({ root: w, gitDir: runnerGit, maxFileBytes: 4096 }).find((t) => t.name === "search")!;
    const out = await callTool(search, { pattern: "hello" }, signal);
    expect(out).toEqual({ ok: true, content: "a.txt:1:hello" });
    await expect(stat(marker)).rejects.toThrow(/ENOENT/);
  });
});
