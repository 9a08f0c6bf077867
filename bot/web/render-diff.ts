/**
 * A unified diff (git's output) rendered as HTML, file by file: a table per file with old and
 * new line numbers and one class per line kind (`add`, `del`, `ctx`, `hunk`, `meta`), and a
 * light syntax colouring (comments, strings, keywords, numbers) done on the raw text before
 * escaping each piece, so no markup from the diff can ever reach the page. Pure.
 */
import { esc } from "./html-text.ts";

/** One file of a diff. */
export type DiffFile = { path: string; oldPath?: string; additions: number; deletions: number; binary: boolean; lines: DiffLine[] };
export type DiffLine = { kind: "add" | "del" | "ctx" | "hunk" | "meta"; text: string; oldNo?: number; newNo?: number };

/** Parses git's unified diff into files. Never throws; unknown lines become `meta`. */
export function parseDiff(diff: string): DiffFile[] {
  const files: DiffFile[] = [];
  let cur: DiffFile | undefined;
  let oldNo = 0;
  let newNo = 0;
  for (const line of diff.split("\n")) {
    const head = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
    if (head) {
      cur = { path: head[2]!, ...(head[1] !== head[2] ? { oldPath: head[1]! } : {}), additions: 0, deletions: 0, binary: false, lines: [] };
      files.push(cur);
      continue;
    }
    if (!cur) {
      if (line.trim()) {
        cur = { path: "(diff)", additions: 0, deletions: 0, binary: false, lines: [] };
        files.push(cur);
      } else continue;
    }
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (hunk) {
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      cur.lines.push({ kind: "hunk", text: line });
    } else if (line.startsWith("+++ ") || line.startsWith("--- ") || /^(index |new file|deleted file|similarity|rename |old mode|new mode)/.test(line)) {
      continue;
    } else if (line.startsWith("Binary files")) {
      cur.binary = true;
      cur.lines.push({ kind: "meta", text: line });
    } else if (line.startsWith("+")) {
      cur.additions += 1;
      cur.lines.push({ kind: "add", text: line.slice(1), newNo: newNo++ });
    } else if (line.startsWith("-")) {
      cur.deletions += 1;
      cur.lines.push({ kind: "del", text: line.slice(1), oldNo: oldNo++ });
    } else if (line.startsWith(" ")) {
      cur.lines.push({ kind: "ctx", text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
    } else if (line.startsWith("\\")) {
      cur.lines.push({ kind: "meta", text: line });
    }
  }
  return files;
}

const KEYWORDS =
  /^(?:const|let|var|function|return|if|else|for|while|do|switch|case|break|continue|import|export|from|class|extends|def|async|await|new|type|interface|true|false|null|undefined|None|True|False|package|func|struct|public|private|static|void|int|string|fn|pub|use|mod|impl|self|this|try|catch|finally|throw|raise|with|as|in|of|yield|lambda)$/;

/** Comment starts by file extension (none known: `//` and `#` both off, strings and keywords still coloured). */
function commentStart(path: string): "#" | "//" | undefined {
  const ext = path.split(".").pop()?.toLowerCase() ?? "";
  if (["py", "sh", "bash", "rb", "yml", "yaml", "toml", "pl", "r", "mk", "dockerfile", "conf", "ini", "cfg"].includes(ext) || /(^|\/)(Makefile|Dockerfile)$/.test(path)) return "#";
  if (["js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "rs", "java", "kt", "c", "h", "cc", "cpp", "hpp", "cs", "swift", "scala", "php", "css", "scss"].includes(ext)) return "//";
  return undefined;
}

/** Escaped HTML of one line of code with spans for comments, strings, keywords and numbers. */
export function colourLine(text: string, path: string): string {
  const cs = commentStart(path);
  const token = new RegExp(`(${cs === "#" ? "#.*$|" : cs === "//" ? "//.*$|" : ""}"(?:[^"\\\\]|\\\\.)*"|'(?:[^'\\\\]|\\\\.)*'|\`[^\`]*\`|\\b[A-Za-z_][A-Za-z0-9_]*\\b|\\b\\d+(?:\\.\\d+)?\\b)`, "g");
  let out = "";
  let from = 0;
  for (const m of text.matchAll(token)) {
    const t = m[0];
    out += esc(text.slice(from, m.index));
    from = m.index! + t.length;
    let cls: string | undefined;
    if (cs && t.startsWith(cs)) cls = "tok-com";
    else if (/^["'`]/.test(t)) cls = "tok-str";
    else if (/^\d/.test(t)) cls = "tok-num";
    else if (KEYWORDS.test(t)) cls = "tok-kw";
    out += cls ? `<span class="${cls}">${esc(t)}</span>` : esc(t);
  }
  return out + esc(text.slice(from));
}

/** At most this many diff lines are rendered for one repository (the rest are counted). */
export const MAX_DIFF_LINES = 4000;

/** The diff as HTML sections, one per file; `maxLines` caps what is drawn. */
export function renderDiff(diff: string, maxLines = MAX_DIFF_LINES): string {
  const files = parseDiff(diff);
  if (files.length === 0) return `<p class="empty">The diff is empty.</p>`;
  let budget = maxLines;
  let hidden = 0;
  const out: string[] = [];
  for (const f of files) {
    const rows: string[] = [];
    for (const l of f.lines) {
      if (budget <= 0) {
        hidden += 1;
        continue;
      }
      budget -= 1;
      const sign = l.kind === "add" ? "+" : l.kind === "del" ? "−" : l.kind === "ctx" ? " " : "";
      const code = l.kind === "hunk" || l.kind === "meta" ? esc(l.text) : colourLine(l.text, f.path);
      rows.push(`<tr class="ln ${l.kind}"><td class="num">${l.oldNo ?? ""}</td><td class="num">${l.newNo ?? ""}</td><td class="code"><span class="sign" aria-label="${l.kind === "add" ? "added" : l.kind === "del" ? "removed" : ""}">${sign}</span>${code}</td></tr>`);
    }
    const title = f.oldPath ? `${esc(f.oldPath)} → ${esc(f.path)}` : esc(f.path);
    out.push(
      `<details class="diff-file" open><summary><span class="path">${title}</span> <span class="stat"><span class="plus">+${f.additions}</span> <span class="minus">−${f.deletions}</span></span></summary>` +
        `<div class="scroll"><table class="diff"><tbody>${rows.join("")}</tbody></table></div></details>`,
    );
  }
  if (hidden > 0) out.push(`<p class="note">${hidden} more diff lines are not shown.</p>`);
  return out.join("");
}
