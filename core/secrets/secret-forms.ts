/**
 * Where known secret values occur in a text, as they are or in a simple encoding a script could
 * apply in one line: JSON-escaped, reversed (`rev`), ROT13, URL-encoded, hex (any case), and
 * base64/base64url at every byte offset, wrapped (`base64` wraps at 76) or not. Plain string
 * searches over prepared views of the text (no per-secret regular expressions: a 1.7 kB key
 * would make them huge), so a megabyte of diff takes milliseconds. Pure.
 */

/** The forms of one secret, prepared once. */
type Forms = {
  /** Searched as they are. */
  exact: string[];
  /** Searched in the lower-cased text (hex, URL escapes). */
  folded: string[];
  /** Base64 and base64url cores, searched in the text without line breaks. */
  encoded: string[];
};

const cache = new Map<string, Forms>();
const B64_CHAR = /[A-Za-z0-9+/=_-]/;

/** Half-open ranges `[start, end)` of `text` that hold a form of one of `secrets` (8+ characters), merged and sorted. */
export function secretRanges(text: string, secrets: readonly string[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const forms = secrets.filter((s) => s.length >= 8).map(formsOf);
  if (forms.length === 0) return ranges;
  for (const f of forms) for (const n of f.exact) findAll(text, n, (i) => ranges.push([i, i + n.length]));
  const lower = text.toLowerCase();
  // Lower-casing keeps positions only when it keeps the length (ASCII and most scripts do).
  const folded = lower.length === text.length ? lower : undefined;
  for (const f of forms) {
    for (const n of f.folded) {
      if (folded) findAll(folded, n, (i) => ranges.push([i, i + n.length]));
      else findAll(text, n, (i) => ranges.push([i, i + n.length]));
    }
  }
  const flat = withoutBreaks(text);
  for (const f of forms) {
    for (const core of f.encoded) {
      findAll(flat.text, core, (i) => {
        // Take the partial groups around the core too: they hold bits of the secret.
        let s = i;
        let e = i + core.length;
        for (let k = 0; k < 4 && s > 0 && B64_CHAR.test(flat.text[s - 1]!); k++) s--;
        for (let k = 0; k < 6 && e < flat.text.length && B64_CHAR.test(flat.text[e]!); k++) e++;
        ranges.push(flat.at ? [flat.at[s]!, flat.at[e - 1]! + 1] : [s, e]);
      });
    }
  }
  return merge(ranges);
}

function formsOf(secret: string): Forms {
  const hit = cache.get(secret);
  if (hit) return hit;
  const bytes = Buffer.from(secret, "utf8");
  const exact = [secret, JSON.stringify(secret).slice(1, -1), [...secret].reverse().join(""), rot13(secret)];
  const folded = [encodeURIComponent(secret), bytes.toString("hex")].map((f) => f.toLowerCase()).filter((f) => f !== secret.toLowerCase());
  const encoded: string[] = [];
  for (const enc of ["base64", "base64url"] as const) {
    for (const k of [0, 1, 2]) {
      // The part of the encoding that is the same wherever the secret starts at byte offset k (mod 3):
      // the groups shared with unknown neighbours are dropped.
      const all = Buffer.concat([Buffer.alloc(k), bytes]).toString(enc);
      const core = all.slice(k > 0 ? 4 : 0, Math.floor((k + bytes.length) / 3) * 4);
      if (core.length >= 8) encoded.push(core);
    }
  }
  const f = { exact: [...new Set(exact)], folded: [...new Set(folded)], encoded: [...new Set(encoded)] };
  if (cache.size > 256) cache.clear();
  cache.set(secret, f);
  return f;
}

function rot13(s: string): string {
  return s.replace(/[a-z]/gi, (c) => {
    const base = c <= "Z" ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/**
 * `text` without CR/LF and without their JSON escapes (`\n`, `\r`), with each kept character's
 * index in `text` (`at` undefined when nothing was removed: the indexes are the same).
 */
function withoutBreaks(text: string): { text: string; at?: Int32Array } {
  if (!/[\r\n]|\\[nr]/.test(text)) return { text };
  const at = new Int32Array(text.length + 1);
  let out = "";
  let n = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const escaped = c === "\\" && (text[i + 1] === "n" || text[i + 1] === "r");
    if (c !== "\n" && c !== "\r" && !escaped) {
      at[n++] = i;
      continue;
    }
    out += text.slice(from, i);
    if (escaped) i++;
    from = i + 1;
  }
  out += text.slice(from);
  at[n] = text.length;
  return { text: out, at };
}

function findAll(haystack: string, needle: string, each: (i: number) => void): void {
  if (!needle) return;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) each(i);
}

function merge(ranges: Array<[number, number]>): Array<[number, number]> {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}
