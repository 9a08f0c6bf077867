/**
 * The thread reply that reports systematic check failures (issue 19): posted once per failure,
 * when healing finds the same check failing with the same first error line on many PRs. Pure.
 */
import type { SystematicFailure } from "../../core/jobs/index.ts";
import { systematicText } from "../../core/campaign/index.ts";
import type { Block } from "./root.ts";
import { escapeCut, SLACK_LIMITS } from "./text.ts";

/** The reply: one section per failure, escaped and cut to Slack's limits. */
export function systematicMessage(found: readonly Pick<SystematicFailure, "check" | "firstLine" | "repositories">[]): { text: string; blocks: Block[] } {
  const text = systematicText(found);
  return {
    text: escapeCut(text, 3000),
    blocks: found.slice(0, 20).map((s) => ({
      type: "section",
      text: { type: "mrkdwn", text: `:rotating_light: ${escapeCut(systematicText([s]), SLACK_LIMITS.sectionText - 40)}` },
    })),
  };
}
