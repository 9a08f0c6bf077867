/**
 * Small text rules shared by the Block Kit builders: Slack escaping, cutting to a limit, and
 * human durations and numbers; the message and block types. Pure.
 */

/** A Slack message: fallback text plus blocks. */
export type SlackMessage = { text: string; blocks: Block[] };
// Block Kit objects are plain JSON; we keep the type open and let the tests check the shape.
export type Block = Record<string, unknown>;

/** Slack's limits we build within (docs.slack.dev: block kit limits). */
export const SLACK_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  fallbackText: 3000,
  buttonValue: 2000,
  privateMetadata: 3000,
  inputMaxLength: 3000,
} as const;

/** Escapes `&`, `<`, `>` as Slack's mrkdwn requires. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Escapes `s` for mrkdwn, then cuts it to at most `max` characters without splitting an entity
 * (`&amp;` is five characters: 600 `&` escape to 3000). Escape first, always: cutting first lets
 * the escaped text outgrow its limit, and Slack refuses the whole message (`invalid_blocks`).
 */
export function escapeCut(s: string, max: number): string {
  const escaped = escapeMrkdwn(s);
  if (escaped.length <= max) return escaped;
  return `${escaped.slice(0, Math.max(0, max - 1)).replace(/&[a-z]{0,3}$/, "")}…`;
}

/** Cuts `s` to at most `max` characters, ending with `…` when cut. */
export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

/** `45 s`, `6 min`, `1 h 5 min`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** `950`, `61k`, `1.9M`. */
export function compactNumber(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${Math.round(n / 1000)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** A Slack link `<url|label>`; the label is escaped. */
export function link(url: string, label: string): string {
  return `<${url}|${escapeMrkdwn(label)}>`;
}
