/**
 * The one diff the runner reads per repository (`git diff --cached --raw -z --numstat --patch`),
 * parsed from real git output: entries (renames included), stats, the patch as plain `git diff`
 * prints it, and the added lines the secret check reads.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addedLines, parseStagedDiff } from "./workspace.ts";

let dir: string;
const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=a", "-c", "user.email=a@b", "-c", "core.quotepath=off", ...args], { cwd: dir, encoding: "utf8" });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cody-diff-"));
  git("init", "-q", "-b", "main");
  writeFileSync(join(dir, "keep.txt"), "one\ntwo\nthree\n");
  writeFileSync(join(dir, "moved.txt"), Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n") + "\n");
  writeFileSync(join(dir, "gone.txt"), "bye\n");
  writeFileSync(join(dir, "blob.bin"), Buffer.from([0, 1, 2, 3]));
  git("add", "-A");
  git("commit", "-qm", "base");
  writeFileSync(join(dir, "keep.txt"), "one\n+++ two\nthree\n");
  renameSync(join(dir, "moved.txt"), join(dir, "renamed.txt"));
  rmSync(join(dir, "gone.txt"));
  writeFileSync(join(dir, "blob.bin"), Buffer.from([0, 1, 2, 4]));
  writeFileSync(join(dir, "with space.txt"), "spaced\n");
  writeFileSync(join(dir, 'quo"te.txt'), "quoted\n");
  git("add", "-A");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parseStagedDiff", () => {
  it("reads entries, stats and the patch of one git process, as plain git diff prints the patch", () => {
    const out = git("diff", "--cached", "--raw", "-z", "--numstat", "--patch", "--no-abbrev", "--no-color", "--no-ext-diff", "--no-textconv");
    const d = parseStagedDiff(out);
    expect(d.entries.map((e) => [e.status, e.path]).sort()).toEqual(
      [["D", "gone.txt"], ["M", "blob.bin"], ["M", "keep.txt"], ["R", "renamed.txt"], ["A", "with space.txt"], ["A", 'quo"te.txt']].sort(),
    );
    // keep.txt +1 −1, two new one-line files, gone.txt −1, the binary and the pure rename 0.
    expect(d.stats).toEqual({ files: 6, additions: 3, deletions: 2 });
    expect(d.patch).toBe(git("diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv"));
  });

  it("is empty for no change", () => {
    expect(parseStagedDiff("")).toEqual({ entries: [], stats: { files: 0, additions: 0, deletions: 0 }, patch: "" });
  });
});

describe("addedLines", () => {
  it("keeps every added line (one that starts with +++ included, as a header would), and names the files whose lines it shows", () => {
    const { lines, shown } = addedLines(parseStagedDiff(git("diff", "--cached", "--raw", "-z", "--numstat", "--patch", "--no-abbrev")).patch);
    expect(lines.sort()).toEqual(["+++ two", "quoted", "spaced"].sort());
    // A quoted name is not listed (the caller reads that file whole); the binary and the pure rename show no lines.
    expect([...shown].sort()).toEqual(["keep.txt", "with space.txt"]);
  });
});
