/**
 * The agent's tools, as data plus a function: Anthropic's text editor
 * (`str_replace_based_edit_tool`), `search` (git grep) and `run_checks` (the job's verify command).
 * Every path goes through {@link resolveInWorkspace} and every file is opened without following
 * links (O_NOFOLLOW, O_EXCL for new files); a tool answers a bad call with
 * `{ ok: false, content: why }`, never throws for the model's mistakes, and never shows the
 * workspace's real path (only `/repo/...`).
 */
import { execFile } from "node:child_process";
import { lstat, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { commandEnv } from "../command.ts";
import { hideRoot, readForEdit, readText, resolveInWorkspace, writeText, VIRTUAL_ROOT } from "./paths.ts";

/** What a tool call gives back to the model. `ok: false` becomes `is_error: true`. */
export type ToolOutput = { ok: boolean; content: string };

/** A tool: its wire definition's parts and the function that runs it. */
export type Tool = {
  name: string;
  description: string;
  /** Validates the model's input; a mismatch is answered as a tool error. */
  inputSchema: z.ZodType;
  /** Set for Anthropic-defined tools: sent as `{ type, name }`, the model knows the schema. */
  anthropicType?: "text_editor_20250728";
  run(input: unknown, signal: AbortSignal): Promise<ToolOutput>;
};

/** What the tools need: the workspace's real path, limits, and the verify command when the job has one. */
export type ToolsInput = {
  /** Real path (symlinks resolved) of the checkout. */
  root: string;
  /** Other spellings of the checkout's path (the one commands run in), hidden from answers like `root`. */
  rootAliases?: string[];
  maxFileBytes: number;
  /**
   * The runner's own git directory for this checkout (runner/workspace.ts): `search` runs git
   * with it, so nothing a script wrote into the checkout's `.git` configures that git.
   */
  gitDir?: string;
  verify?: (signal: AbortSignal) => Promise<{ ok: boolean; output: string }>;
};

export const EDITOR_TOOL = "str_replace_based_edit_tool";
const MAX_LISTING_ENTRIES = 400;
const MAX_SEARCH_MATCHES = 100;
const MAX_LINE_CHARS = 400;

const editorInput = z.discriminatedUnion("command", [
  z.object({ command: z.literal("view"), path: z.string(), view_range: z.array(z.number().int()).length(2).nullish() }),
  z.object({ command: z.literal("create"), path: z.string(), file_text: z.string() }),
  z.object({ command: z.literal("str_replace"), path: z.string(), old_str: z.string(), new_str: z.string().nullish() }),
  z.object({
    command: z.literal("insert"),
    path: z.string(),
    insert_line: z.number().int(),
    insert_text: z.string().optional(),
    new_str: z.string().optional(),
  }),
]);

const searchInput = z.object({
  pattern: z.string().min(1).describe("extended regular expression (or a fixed string with fixed_string: true)"),
  path: z.string().optional().describe("file or directory to search in, relative to the repository root or under /repo"),
  case_insensitive: z.boolean().optional(),
  fixed_string: z.boolean().optional(),
});

/** The tools of one run, in the order they are offered; `run_checks` only with a verify command. */
export function newTools(input: ToolsInput): Tool[] {
  const tools: Tool[] = [editorTool(input), searchTool(input)];
  if (input.verify) tools.push(checksTool(input.verify));
  const roots = [input.root, ...(input.rootAliases ?? [])];
  return tools.map((t) => hidingRoot(t, roots));
}

/** `tool` whose answers and errors show the workspace as /repo, never its real path. */
function hidingRoot(tool: Tool, roots: readonly string[]): Tool {
  return {
    ...tool,
    async run(raw, signal) {
      try {
        const out = await tool.run(raw, signal);
        return { ok: out.ok, content: hideRoot(out.content, roots) };
      } catch (err) {
        if (signal.aborted) throw err;
        return fail(hideRoot(`${tool.name} failed: ${err instanceof Error ? err.message : String(err)}`, roots));
      }
    },
  };
}

/** Parses `raw` with `tool.inputSchema` and runs it; a schema mismatch or a throw becomes a tool error. */
export async function callTool(tool: Tool, raw: unknown, signal: AbortSignal): Promise<ToolOutput> {
  const parsed = tool.inputSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
    return { ok: false, content: `invalid input for ${tool.name}: ${issues}` };
  }
  try {
    return await tool.run(parsed.data, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    return { ok: false, content: `${tool.name} failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function editorTool(input: ToolsInput): Tool {
  return {
    name: EDITOR_TOOL,
    description: "View, create and edit files in the repository.",
    inputSchema: editorInput,
    anthropicType: "text_editor_20250728",
    async run(raw) {
      const cmd = raw as z.infer<typeof editorInput>;
      const target = await resolveInWorkspace(input.root, cmd.path);
      if (target.kind === "refused") return fail(target.reason);
      const shown = target.relative;
      switch (cmd.command) {
        case "view": {
          if (!target.exists) return fail(`${shown} does not exist`);
          if ((await lstat(target.real)).isDirectory()) return ok(await listDirectory(target.real, shown));
          const read = await readText(target, input.maxFileBytes);
          if (read.kind === "refused") return fail(read.reason);
          return viewFile(read.text, shown, cmd.view_range ?? undefined);
        }
        case "create": {
          if (Buffer.byteLength(cmd.file_text) > input.maxFileBytes) return fail(`file_text is larger than the ${input.maxFileBytes}-byte limit`);
          if (target.exists && !(await lstat(target.real)).isFile()) return fail(`${shown} is not a regular file`);
          const written = await writeText(input.root, target, cmd.file_text);
          if (written) return fail(written);
          return ok(`${target.exists ? "Overwrote" : "Created"} ${shown}`);
        }
        case "str_replace": {
          const read = await readForEdit(target, input.maxFileBytes);
          if (read.kind === "refused") return fail(read.reason);
          if (cmd.old_str === "") return fail("old_str must not be empty");
          const count = occurrences(read.text, cmd.old_str);
          if (count === 0) return fail(`old_str was not found in ${shown}; view the file and copy the text exactly, whitespace included`);
          if (count > 1) return fail(`old_str occurs ${count} times in ${shown}; include more surrounding lines so it matches exactly once`);
          const at = read.text.indexOf(cmd.old_str);
          const next = read.text.slice(0, at) + (cmd.new_str ?? "") + read.text.slice(at + cmd.old_str.length);
          if (Buffer.byteLength(next) > input.maxFileBytes) return fail(`the result would exceed the ${input.maxFileBytes}-byte limit`);
          const written = await writeText(input.root, target, next);
          if (written) return fail(written);
          const line = read.text.slice(0, at).split("\n").length;
          return ok(`Edited ${shown}.\n${snippet(next, line, (cmd.new_str ?? "").split("\n").length)}`);
        }
        case "insert": {
          const read = await readForEdit(target, input.maxFileBytes);
          if (read.kind === "refused") return fail(read.reason);
          const insert = cmd.insert_text ?? cmd.new_str;
          if (insert === undefined) return fail("insert needs insert_text");
          const lines = read.text.split("\n");
          if (cmd.insert_line < 0 || cmd.insert_line > lines.length) {
            return fail(`insert_line ${cmd.insert_line} is outside 0..${lines.length} for ${shown}`);
          }
          const added = insert.endsWith("\n") ? insert.slice(0, -1).split("\n") : insert.split("\n");
          lines.splice(cmd.insert_line, 0, ...added);
          const next = lines.join("\n");
          if (Buffer.byteLength(next) > input.maxFileBytes) return fail(`the result would exceed the ${input.maxFileBytes}-byte limit`);
          const written = await writeText(input.root, target, next);
          if (written) return fail(written);
          return ok(`Inserted ${added.length} line(s) after line ${cmd.insert_line} of ${shown}.\n${snippet(next, cmd.insert_line + 1, added.length)}`);
        }
      }
    },
  };
}

function searchTool(input: ToolsInput): Tool {
  return {
    name: "search",
    description:
      `Search the repository's files (tracked and new, not ignored) with git grep. Returns up to ${MAX_SEARCH_MATCHES} matching lines as path:line:text. ` +
      "`pattern` is an extended regular expression unless fixed_string is true; `path` limits the search to a file or directory.",
    inputSchema: searchInput,
    async run(raw, signal) {
      const q = raw as z.infer<typeof searchInput>;
      const args = ["grep", "-n", "-I", "--no-color", "--untracked", "--full-name"];
      if (q.case_insensitive) args.push("-i");
      args.push(q.fixed_string ? "-F" : "-E", "-e", q.pattern, "--");
      if (q.path) {
        const target = await resolveInWorkspace(input.root, q.path);
        if (target.kind === "refused") return fail(target.reason);
        if (!target.exists) return fail(`${target.relative} does not exist`);
        args.push(`:(literal)${target.relative}`);
      }
      const res = await git(args, input.root, input.gitDir, signal);
      if (res.code === 1 && res.stdout === "") return ok("No matches.");
      if (res.code !== 0) return fail(`search failed: ${res.stderr.trim().slice(0, 500) || `git grep exited with ${res.code}`}`);
      const lines = res.stdout.split("\n").filter(Boolean);
      const shown = lines.slice(0, MAX_SEARCH_MATCHES).map((l) => (l.length > MAX_LINE_CHARS ? `${l.slice(0, MAX_LINE_CHARS)} …[line cut]` : l));
      const more = lines.length > MAX_SEARCH_MATCHES ? `\n[${lines.length - MAX_SEARCH_MATCHES} more matches not shown; narrow the pattern or the path]` : "";
      return ok(shown.join("\n") + more);
    },
  };
}

function checksTool(verify: NonNullable<ToolsInput["verify"]>): Tool {
  return {
    name: "run_checks",
    description:
      "Run the repository's checks (the job's verify command, e.g. its tests) on the current state of the files. " +
      "Returns whether they passed and the end of their output. The same checks run again after you finish; the change is only kept when they pass.",
    inputSchema: z.object({}).loose(),
    async run(_raw, signal) {
      const res = await verify(signal);
      return { ok: true, content: `${res.ok ? "Checks passed." : "Checks FAILED."}\n${res.output}` };
    },
  };
}

/** Lists a directory two levels deep, skipping hidden entries and node_modules. */
async function listDirectory(real: string, shown: string): Promise<string> {
  const out: string[] = [];
  let cut = false;
  const walk = async (dir: string, rel: string, depth: number) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      if (out.length >= MAX_LISTING_ENTRIES) {
        cut = true;
        return;
      }
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(e.isDirectory() ? `${r}/` : e.isSymbolicLink() ? `${r} (symbolic link, not followed)` : r);
      if (e.isDirectory() && depth < 2) await walk(path.join(dir, e.name), r, depth + 1);
    }
  };
  await walk(real, shown === "." ? "" : shown, 1);
  const head = `Files and directories in ${shown === "." ? VIRTUAL_ROOT : shown}, two levels deep (hidden entries and node_modules skipped):`;
  return [head, ...out, ...(cut ? [`[listing cut at ${MAX_LISTING_ENTRIES} entries; view a subdirectory]`] : [])].join("\n");
}

function viewFile(text: string, shown: string, range: number[] | undefined): ToolOutput {
  const lines = text.split("\n");
  if (lines.length > 1 && lines.at(-1) === "") lines.pop();
  let start = 1;
  let end = lines.length;
  if (range) {
    const [a, b] = range as [number, number];
    if (a < 1 || a > Math.max(lines.length, 1)) return fail(`view_range start ${a} is outside 1..${lines.length} for ${shown}`);
    if (b !== -1 && (b < a || b > lines.length)) return fail(`view_range end ${b} must be -1 or within ${a}..${lines.length}`);
    start = a;
    end = b === -1 ? lines.length : b;
  }
  return ok(numbered(lines.slice(start - 1, end), start));
}

function numbered(lines: string[], first: number): string {
  return lines.map((l, i) => `${String(first + i).padStart(6)}\t${l}`).join("\n");
}

/** A few numbered lines around an edit, so the model sees the result without another view. */
function snippet(text: string, line: number, count: number): string {
  const lines = text.split("\n");
  const from = Math.max(1, line - 3);
  const to = Math.min(lines.length, line + count + 2);
  return numbered(lines.slice(from - 1, to), from);
}

function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

function git(args: string[], cwd: string, gitDir: string | undefined, signal: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  // No global or system git config, HOME outside the checkout, and (in the runner) the runner's own
  // git directory: nothing in the checkout, its .git included, can configure this git.
  const extra: Record<string, string> = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  if (gitDir) Object.assign(extra, { GIT_DIR: gitDir, GIT_COMMON_DIR: gitDir, GIT_OBJECT_DIRECTORY: path.join(gitDir, "objects"), GIT_WORK_TREE: cwd });
  return new Promise((resolve) => {
    execFile(
      "git",
      ["-c", "core.quotepath=off", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*", ...args],
      { cwd, env: commandEnv(process.env, tmpdir(), extra), timeout: 30_000, maxBuffer: 8 * 1024 * 1024, signal },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && code === -1 ? err.message : "")) });
      },
    );
  });
}

function ok(content: string): ToolOutput {
  return { ok: true, content };
}
function fail(content: string): ToolOutput {
  return { ok: false, content };
}
