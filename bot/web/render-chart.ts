/**
 * The burndown chart of a job's page: an SVG of step lines over time, repositories by outcome
 * (and the ones still to go), and after publishing the pull requests open / merged / closed.
 * Every series has its own dash pattern and end marker and is named in the legend with its
 * value, so colour is never the only signal. Pure; styles come from the page's stylesheet.
 */
import type { CountSnapshot, HistoryKey } from "../../core/jobs/index.ts";
import { esc, utc } from "./html-text.ts";

type SeriesKey = HistoryKey | "remaining";

/** The series in drawing order, with what the legend calls them and their end marker. */
export const SERIES: readonly { key: SeriesKey; label: string; marker: "circle" | "square" | "diamond" | "triangle" | "cross" | "bar" | "ring" | "star" }[] = [
  { key: "remaining", label: "Still to run", marker: "ring" },
  { key: "completed", label: "Changed", marker: "circle" },
  { key: "noChanges", label: "No changes", marker: "bar" },
  { key: "failed", label: "Failed", marker: "cross" },
  { key: "cancelled", label: "Cancelled", marker: "diamond" },
  { key: "open", label: "PRs open", marker: "square" },
  { key: "merged", label: "PRs merged", marker: "triangle" },
  { key: "closed", label: "PRs closed", marker: "star" },
];

const W = 960;
const H = 280;
const M = { left: 48, right: 20, top: 16, bottom: 36 };

/**
 * The chart's HTML: a `<figure>` with the SVG and a legend. `total` is the job's repository
 * count; `end` the time the x axis runs to (now while live, else the last change).
 */
export function renderChart(history: readonly CountSnapshot[], total: number, end: string): string {
  const pts = history.length > 0 ? history : [];
  const withPrs = pts.some((p) => p.open + p.merged + p.closed > 0);
  const series = SERIES.filter((s) => (["open", "merged", "closed"].includes(s.key) ? withPrs : s.key !== "cancelled" || pts.some((p) => p.cancelled > 0)));
  const value = (p: CountSnapshot, k: SeriesKey) => (k === "remaining" ? Math.max(0, total - p.completed - p.noChanges - p.failed - p.cancelled) : p[k]);
  const t0 = Date.parse(pts[0]?.t ?? end);
  const t1 = Math.max(t0 + 1000, Date.parse(end), ...pts.map((p) => Date.parse(p.t)));
  const yMax = Math.max(1, total, ...pts.map((p) => Math.max(p.open, p.merged, p.closed)));
  const x = (t: string) => M.left + ((Date.parse(t) - t0) / (t1 - t0)) * (W - M.left - M.right);
  const y = (v: number) => M.top + (1 - v / yMax) * (H - M.top - M.bottom);
  const r1 = (n: number) => Math.round(n * 10) / 10;

  const grid: string[] = [];
  const step = Math.max(1, Math.ceil(yMax / 4));
  const ticks = [...new Set([...Array.from({ length: Math.floor(yMax / step) + 1 }, (_, i) => i * step), yMax])];
  for (const v of ticks) {
    grid.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${r1(y(v))}" y2="${r1(y(v))}"/><text class="axis" x="${M.left - 6}" y="${r1(y(v)) + 4}" text-anchor="end">${v}</text>`);
  }
  const endIso = new Date(t1).toISOString();
  // A short job's axis needs seconds; a long one's the date.
  const label = (iso: string) => (t1 - t0 < 2 * 3600_000 ? `${iso.slice(11, 19)} UTC` : utc(iso));
  grid.push(`<text class="axis" x="${M.left}" y="${H - 10}">${esc(label(pts[0]?.t ?? end))}</text>`);
  grid.push(`<text class="axis" x="${W - M.right}" y="${H - 10}" text-anchor="end">${esc(label(endIso))}</text>`);

  const lines: string[] = [];
  const legend: string[] = [];
  for (const s of series) {
    if (pts.length === 0) break;
    let d = `M${r1(x(pts[0]!.t))} ${r1(y(value(pts[0]!, s.key)))}`;
    for (const p of pts.slice(1)) d += `H${r1(x(p.t))}V${r1(y(value(p, s.key)))}`;
    const last = value(pts.at(-1)!, s.key);
    d += `H${r1(x(endIso))}`;
    lines.push(`<path class="series s-${s.key}" d="${d}"><title>${esc(s.label)}: ${last}</title></path>${marker(s.marker, s.key, r1(x(endIso)), r1(y(last)))}`);
    legend.push(`<li class="s-${s.key}"><svg class="swatch" viewBox="0 0 36 12" aria-hidden="true"><line class="series s-${s.key}" x1="0" x2="24" y1="6" y2="6"/>${marker(s.marker, s.key, 30, 6)}</svg>${esc(s.label)} <b>${last}</b></li>`);
  }
  const empty = pts.length === 0 ? `<text class="axis" x="${W / 2}" y="${H / 2}" text-anchor="middle">no counts yet</text>` : "";
  return (
    `<figure class="chart" id="chart"><svg class="burndown" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title">` +
    `<title id="chart-title">Repositories by outcome${withPrs ? " and pull requests by state" : ""} over time</title>` +
    `${grid.join("")}${lines.join("")}${empty}</svg>` +
    `<figcaption><ul class="legend">${legend.join("")}</ul></figcaption></figure>`
  );
}

function marker(kind: string, key: string, cx: number, cy: number): string {
  const c = `class="marker s-${key}"`;
  switch (kind) {
    case "circle":
      return `<circle ${c} cx="${cx}" cy="${cy}" r="4"/>`;
    case "ring":
      return `<circle ${c} cx="${cx}" cy="${cy}" r="4" fill="none"/>`;
    case "square":
      return `<rect ${c} x="${cx - 4}" y="${cy - 4}" width="8" height="8"/>`;
    case "diamond":
      return `<path ${c} d="M${cx} ${cy - 5}L${cx + 5} ${cy}L${cx} ${cy + 5}L${cx - 5} ${cy}Z"/>`;
    case "triangle":
      return `<path ${c} d="M${cx} ${cy - 5}L${cx + 5} ${cy + 4}L${cx - 5} ${cy + 4}Z"/>`;
    case "cross":
      return `<path ${c} d="M${cx - 4} ${cy - 4}L${cx + 4} ${cy + 4}M${cx + 4} ${cy - 4}L${cx - 4} ${cy + 4}"/>`;
    case "bar":
      return `<rect ${c} x="${cx - 5}" y="${cy - 1.5}" width="10" height="3"/>`;
    default:
      return `<path ${c} d="M${cx} ${cy - 5}L${cx + 1.5} ${cy - 1.5}L${cx + 5} ${cy - 1.5}L${cx + 2} ${cy + 1}L${cx + 3} ${cy + 5}L${cx} ${cy + 2.5}L${cx - 3} ${cy + 5}L${cx - 2} ${cy + 1}L${cx - 5} ${cy - 1.5}L${cx - 1.5} ${cy - 1.5}Z"/>`;
  }
}
