/**
 * Estimated cost of a run from its token usage and a price table per model line.
 * Prices are US dollars per million tokens, list prices for the standard tier; cache writes are
 * priced as 5-minute writes (1.25 × input), cache reads at 0.1 × input.
 */
import type { Usage } from "../../core/jobs/index.ts";

/** Dollars per million tokens. */
export type Price = { input: number; output: number; cacheWrite: number; cacheRead: number };

const price = (input: number, output: number): Price => ({ input, output, cacheWrite: input * 1.25, cacheRead: input * 0.1 });

/**
 * Model id prefixes and their prices; the first matching prefix wins, so specific ids come
 * before their line. Opus 4.0/4.1 kept the old Opus price; later Opus models cost less.
 */
export const PRICES: ReadonlyArray<readonly [prefix: string, price: Price]> = [
  ["claude-opus-4-0", price(15, 75)],
  ["claude-opus-4-1", price(15, 75)],
  ["claude-opus-4-20250514", price(15, 75)],
  ["claude-opus", price(5, 25)],
  ["claude-sonnet", price(3, 15)],
  ["claude-3-7-sonnet", price(3, 15)],
  ["claude-haiku-3", price(0.25, 1.25)],
  ["claude-3-5-haiku", price(0.8, 4)],
  ["claude-haiku", price(1, 5)],
];

/** The price of `model`, or undefined when no entry matches (cost is then unknown, reported as 0). */
export function priceFor(model: string): Price | undefined {
  return PRICES.find(([prefix]) => model.startsWith(prefix))?.[1];
}

/** Estimated dollars for `usage` on `model`, rounded to 1/10,000 of a dollar; 0 for an unknown model. */
export function estimateCostUsd(model: string, usage: Usage): number {
  const p = priceFor(model);
  if (!p) return 0;
  const dollars =
    (usage.inputTokens * p.input +
      usage.outputTokens * p.output +
      usage.cacheWriteTokens * p.cacheWrite +
      usage.cacheReadTokens * p.cacheRead) /
    1_000_000;
  return Math.round(dollars * 10_000) / 10_000;
}
