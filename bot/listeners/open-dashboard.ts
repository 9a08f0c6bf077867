/**
 * The root message's "Open dashboard" button is a link button: Slack opens the job page itself
 * and still sends the click to the app, which must acknowledge it (or Slack shows an error mark).
 */
import type { App } from "@slack/bolt";
import { DASHBOARD_ACTION } from "../messages/root.ts";

/** Acknowledges clicks on the "Open dashboard" link button; nothing else happens. */
export function registerOpenDashboard(app: App): void {
  app.action(DASHBOARD_ACTION, async ({ ack }) => {
    await ack();
  });
}
