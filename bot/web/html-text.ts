/**
 * Text rules of the web page: HTML escaping (every value from repositories, the model or people
 * goes through {@link esc}), and numbers, times and durations for people. Pure.
 */

/** Escapes `& < > " '` so a value is text in element content and in quoted attributes. */
export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** `950`, `61k`, `1.9M`. */
export function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${Math.round(n / 1000)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** `2026-12-07 05:20 UTC` (the page is the same for every viewer; UTC says so). */
export function utc(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** `45 s`, `6 min`, `1 h 5 min`: the same words as in Slack. */
export { duration } from "../messages/text.ts";

/** Cuts `s` to at most `max` characters, ending with `…` when cut. */
export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}
