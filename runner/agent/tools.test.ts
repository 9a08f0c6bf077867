import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callTool, newTools, type Tool, type ToolOutput } from "./tools.ts";

let base: string;
let root: string;
let outside: string;
let tools: Tool[];
const signal = new AbortController().signal;

async function call(name: string, input: unknown): Promise<ToolOutput> {
  const tool = tools.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  return callTool(tool, input, signal);
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), "cody-tools-")));
  root = path.join(base, "repo");
  outside = path.join(base, "outside");
  await mkdir(path.join(root, "src"), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(outside, "secret.txt"), "outside-secret\n");
  await writeFile(path.join(root, "src", "a.ts"), "import { fetchJson } from './http';\nexport const a = fetchJson('/a');\n");
  await writeFile(path.join(root, "src", "b.ts"), "export const b = 1;\nexport const c = 1;\n");
  await writeFile(path.join(root, "many.txt"), Array.from({ length: 150 }, (_, i) => `needle ${i}`).join("\n") + "\n");
  await writeFile(path.join(root, "big.txt"), "x".repeat(5000));
  await writeFile(path.join(root, "bin.dat"), Buffer.from([1, 2, 0, 3]));
  await symlink("/", path.join(root, "root-link"));
  await symlink(outside, path.join(root, "out-link"));
  await symlink(path.join(root, "src"), path.join(root, "src-link"));
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, stdio: "pipe" });
  git("init", "-q");
  git("-c", "user.email=t@example.com", "-c", "user.name=t", "add", "src", "many.txt");
  git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "init");
  tools = newTools({ root, maxFileBytes: 4096 });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("path confinement", () => {
  it.for([
    { name: "a relative .. escape", input: { command: "view", path: "../../etc/passwd" }, want: /outside the repository/ },
    { name: "an absolute path outside the root", input: { command: "view", path: "/etc/passwd" }, want: /outside the repository/ },
    { name: "a .. escape under the virtual root", input: { command: "view", path: "/repo/../etc/passwd" }, want: /outside the repository/ },
    { name: "a sibling directory by absolute path", input: { command: "view", path: "<outside>/secret.txt" }, want: /outside the repository/ },
    { name: "a symlink to /", input: { command: "view", path: "root-link/etc/passwd" }, want: /symbolic link/ },
    { name: "a symlink to / itself", input: { command: "view", path: "/repo/root-link" }, want: /symbolic link/ },
    { name: "a read through a symlink that leads out", input: { command: "view", path: "out-link/secret.txt" }, want: /symbolic link/ },
    { name: "a create through a symlink that leads out", input: { command: "create", path: "out-link/pwned.txt", file_text: "x" }, want: /symbolic link/ },
    { name: "a create in a new directory behind a link out", input: { command: "create", path: "out-link/new/pwned.txt", file_text: "x" }, want: /symbolic link/ },
    { name: "a read through a link that stays inside (no link is followed)", input: { command: "view", path: "src-link/b.ts" }, want: /symbolic link/ },
    { name: "a write to .git/config", input: { command: "create", path: ".git/config", file_text: "[core]\n" }, want: /\.git directory/ },
    { name: "an edit of .git/HEAD by absolute path", input: { command: "str_replace", path: "/repo/.git/HEAD", old_str: "ref", new_str: "x" }, want: /\.git directory/ },
    { name: "a read of .git/config", input: { command: "view", path: ".git/config" }, want: /\.git directory/ },
    { name: "a file above the size cap", input: { command: "view", path: "big.txt" }, want: /above the 4096-byte limit/ },
    { name: "content above the size cap", input: { command: "create", path: "huge.txt", file_text: "y".repeat(5000) }, want: /4096-byte limit/ },
    { name: "a binary file", input: { command: "view", path: "bin.dat" }, want: /binary/ },
    { name: "a search path outside", input: { pattern: "x", path: "../outside" }, want: /outside the repository/, tool: "search" },
  ])("refuses $name as a tool error", async (tc) => {
    const input = JSON.parse(JSON.stringify(tc.input).replace("<outside>", outside));
    const before = await readdir(outside);
    const gitConfig = await readFile(path.join(root, ".git", "config"), "utf8");
    const out = await call(tc.tool ?? "str_replace_based_edit_tool", input);
    expect(out.ok).toBe(false);
    expect(out.content).toMatch(tc.want);
    expect(out.content).not.toContain("outside-secret");
    expect(out.content).not.toContain("root:");
    expect(await readdir(outside)).toEqual(before);
    expect(await readFile(path.join(root, ".git", "config"), "utf8")).toBe(gitConfig);
  });

  it("accepts a relative path, an absolute path under /repo and the workspace's own path", async () => {
    for (const p of ["src/b.ts", "/repo/src/b.ts", path.join(root, "src/b.ts")]) {
      const out = await call("str_replace_based_edit_tool", { command: "view", path: p });
      expect(out, p).toEqual({ ok: true, content: "     1\texport const b = 1;\n     2\texport const c = 1;" });
    }
  });
});

describe("text editor", () => {
  it("views a line range and lists a directory without .git", async () => {
    const range = await call("str_replace_based_edit_tool", { command: "view", path: "many.txt", view_range: [149, -1] });
    expect(range.content).toBe("   149\tneedle 148\n   150\tneedle 149");
    const dir = await call("str_replace_based_edit_tool", { command: "view", path: "/repo" });
    expect(dir.ok).toBe(true);
    expect(dir.content).toContain("src/a.ts");
    expect(dir.content).not.toContain(".git");
    const bad = await call("str_replace_based_edit_tool", { command: "view", path: "many.txt", view_range: [200, 300] });
    expect(bad.ok).toBe(false);
  });

  it("str_replace needs exactly one match and keeps $ patterns literal", async () => {
    const file = path.join(root, "src", "b.ts");
    const none = await call("str_replace_based_edit_tool", { command: "str_replace", path: "src/b.ts", old_str: "nope", new_str: "x" });
    expect(none).toMatchObject({ ok: false, content: expect.stringMatching(/not found/) });
    const two = await call("str_replace_based_edit_tool", { command: "str_replace", path: "src/b.ts", old_str: "= 1", new_str: "= 2" });
    expect(two).toMatchObject({ ok: false, content: expect.stringMatching(/occurs 2 times/) });
    expect(await readFile(file, "utf8")).toBe("export const b = 1;\nexport const c = 1;\n");
    const one = await call("str_replace_based_edit_tool", { command: "str_replace", path: "src/b.ts", old_str: "c = 1", new_str: "c = '$&$1'" });
    expect(one.ok).toBe(true);
    expect(await readFile(file, "utf8")).toBe("export const b = 1;\nexport const c = '$&$1';\n");
  });

  it("creates files in new directories and inserts lines", async () => {
    const created = await call("str_replace_based_edit_tool", { command: "create", path: "/repo/lib/new/x.ts", file_text: "one\nthree\n" });
    expect(created).toEqual({ ok: true, content: "Created lib/new/x.ts" });
    const inserted = await call("str_replace_based_edit_tool", { command: "insert", path: "lib/new/x.ts", insert_line: 1, insert_text: "two\n" });
    expect(inserted.ok).toBe(true);
    expect(await readFile(path.join(root, "lib/new/x.ts"), "utf8")).toBe("one\ntwo\nthree\n");
    const outOfRange = await call("str_replace_based_edit_tool", { command: "insert", path: "lib/new/x.ts", insert_line: 99, insert_text: "z" });
    expect(outOfRange.ok).toBe(false);
  });

  it.for([
    { name: "no path", input: { command: "view" } },
    { name: "an unknown command", input: { command: "undo_edit", path: "src/a.ts" } },
    { name: "str_replace without old_str", input: { command: "str_replace", path: "src/a.ts", new_str: "x" } },
    { name: "not an object", input: "view src/a.ts" },
  ])("answers a malformed call ($name) with a tool error", async (tc) => {
    const out = await call("str_replace_based_edit_tool", tc.input);
    expect(out.ok).toBe(false);
    expect(out.content).toMatch(/invalid input for str_replace_based_edit_tool/);
  });
});

describe("search", () => {
  it("finds tracked and new files, limited to a path", async () => {
    await writeFile(path.join(root, "src", "untracked.ts"), "fetchJson('/u');\n");
    const all = await call("search", { pattern: "fetchJson\\(" });
    expect(all.content.split("\n").sort()).toEqual(["src/a.ts:2:export const a = fetchJson('/a');", "src/untracked.ts:1:fetchJson('/u');"]);
    const limited = await call("search", { pattern: "fetchJson", path: "/repo/src/a.ts", fixed_string: true });
    expect(limited.content.split("\n")).toHaveLength(2);
    expect(await call("search", { pattern: "no-such-thing-anywhere" })).toEqual({ ok: true, content: "No matches." });
  });

  it("caps the number of matches with a note", async () => {
    const out = await call("search", { pattern: "^needle", path: "many.txt" });
    const lines = out.content.split("\n");
    expect(lines).toHaveLength(101);
    expect(lines.at(-1)).toBe("[50 more matches not shown; narrow the pattern or the path]");
  });

  it("reports a bad regular expression as a tool error", async () => {
    const out = await call("search", { pattern: "(" });
    expect(out.ok).toBe(false);
  });
});

describe("run_checks", () => {
  it("is offered only when the job has a verify command", async () => {
    expect(newTools({ root, maxFileBytes: 1 }).map((t) => t.name)).toEqual(["str_replace_based_edit_tool", "search"]);
    const withChecks = newTools({ root, maxFileBytes: 1, verify: async () => ({ ok: false, output: "1 test failed" }) });
    expect(withChecks.map((t) => t.name)).toEqual(["str_replace_based_edit_tool", "search", "run_checks"]);
    expect(await callTool(withChecks[2]!, {}, signal)).toEqual({ ok: true, content: "Checks FAILED.\n1 test failed" });
  });
});
