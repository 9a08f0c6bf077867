/**
 * The history of a job's counts, for the burndown chart of its web page (issue 20). The store
 * appends one small point in the same UpdateItem that changes a count (a repository counted or
 * uncounted: `{ t, k, d }`; the PR burndown after a refresh: `{ t, s }` with absolute values), so
 * keeping it costs no extra request. When the list grows past {@link MAX_HISTORY_POINTS} the
 * writer that saw it compacts it (one conditional write every few hundred counts). Pure.
 */
import { HISTORY_KEYS, type CampaignSummary, type CountPoint, type Counters, type HistoryKey } from "./job.ts";

/** At most this many points stay on a job; past it the list is folded and thinned to half. */
export const MAX_HISTORY_POINTS = 500;

/** The counts as of one time (`t` ISO). */
export type CountSnapshot = { t: string } & Record<HistoryKey, number>;

/** The point a repository's count (or uncount, `d` = −1) appends. */
export function countPoint(counter: keyof Omit<Counters, "total">, d: number, at: Date): CountPoint {
  return { t: at.getTime(), k: counter, d };
}

/** The point a PR refresh appends (open, merged, closed as absolute values). */
export function campaignPoint(s: Pick<CampaignSummary, "open" | "merged" | "closed">, at: string): CountPoint {
  const ms = Date.parse(at);
  return { t: Number.isNaN(ms) ? Date.now() : ms, s: { open: s.open, merged: s.merged, closed: s.closed } };
}

/** True when two summaries differ in what the chart draws. */
export function campaignCountsDiffer(a: Partial<CampaignSummary> | undefined, b: Pick<CampaignSummary, "open" | "merged" | "closed">): boolean {
  return !a || a.open !== b.open || a.merged !== b.merged || a.closed !== b.closed;
}

function zero(t: string): CountSnapshot {
  return { t, completed: 0, noChanges: 0, failed: 0, cancelled: 0, open: 0, merged: 0, closed: 0 };
}

function sameCounts(a: CountSnapshot, b: CountSnapshot): boolean {
  return HISTORY_KEYS.every((k) => a[k] === b[k]);
}

/**
 * The snapshots a list of points stands for, in list order (the order DynamoDB applied the
 * appends, whatever the writers' clocks say), one per change of counts (points that change
 * nothing are dropped). `start`: the time of the first snapshot (all zeros), e.g.
 * the job's creation; without it the series begins at the first point. Counts never go below 0.
 */
export function foldHistory(points: readonly CountPoint[] | undefined, start?: string): CountSnapshot[] {
  const list = points ?? [];
  const iso = (t: number | string) => new Date(t).toISOString();
  let cur = zero(start ?? iso(list[0]?.t ?? 0));
  const out: CountSnapshot[] = start ? [cur] : [];
  for (const p of list) {
    const next: CountSnapshot = { ...cur, t: iso(p.t) };
    if (p.s) for (const k of HISTORY_KEYS) if (typeof p.s[k] === "number") next[k] = Math.max(0, p.s[k]!);
    if (p.k && HISTORY_KEYS.includes(p.k) && typeof p.d === "number") next[p.k] = Math.max(0, next[p.k] + p.d);
    if (out.length > 0 && sameCounts(out[out.length - 1]!, next)) continue;
    out.push(next);
    cur = next;
  }
  return out;
}

/**
 * `points` folded and thinned to at most `keep` absolute points (the first and the last kept,
 * the rest evenly spaced), so the chart keeps its shape and its end values stay exact.
 */
export function compactHistory(points: readonly CountPoint[], keep: number): CountPoint[] {
  const snaps = foldHistory(points);
  const chosen = snaps.length <= keep ? snaps : thin(snaps, keep);
  return chosen.map(({ t, ...s }) => ({ t: Date.parse(t), s }));
}

/** At most `keep` (≥ 2) items of `items`, first and last included, evenly spaced. */
export function thin<T>(items: readonly T[], keep: number): T[] {
  if (items.length <= keep) return [...items];
  const n = Math.max(2, keep);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.round((i * (items.length - 1)) / (n - 1))]!);
  return out;
}
