/**
 * Test support: requests to the bot as Slack sends them (form-encoded, signed): a `/cody`
 * command, a job modal submission, a block button; and `eventually` for listeners that run
 * after the HTTP receiver has answered.
 */
import { signSlackRequest } from "../fakes/slack.ts";

/** POSTs a signed body to `${base}/slack/events`; `headers` replaces the signature. */
export async function postToBot(base: string, secret: string, body: string, headers: Record<string, string> = signSlackRequest(secret, body)): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  const r = await fetch(`${base}/slack/events`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
  return { status: r.status, text: await r.text(), ms: performance.now() - t0 };
}

/** Waits (briefly) until `check` passes: Bolt's HTTP receiver answers before the listener ends. */
export async function eventually(check: () => void | Promise<void>, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Where a request comes from. */
export type From = { user?: string; team?: string; channel?: string };

/** A `/cody <text>` slash command body. */
export function command(text: string, user = "UDANA", from: Omit<From, "user"> = {}): string {
  return new URLSearchParams({
    token: "legacy", team_id: from.team ?? "T1", channel_id: from.channel ?? "C1", user_id: user, command: "/cody", text,
    trigger_id: "1337.42.abcd", response_url: "http://127.0.0.1:1/hooks", api_app_id: "A1",
  }).toString();
}

/** A job modal submission body. */
export function submission(
  viewId: string,
  fields: { repositories: string; instructions?: string; type?: string; user?: string; verify?: string; name?: string; team?: string; channel?: string },
): string {
  const v = (value: string) => ({ value: { type: "plain_text_input", value } });
  const team = fields.team ?? "T1";
  return new URLSearchParams({
    payload: JSON.stringify({
      type: "view_submission",
      team: { id: team },
      user: { id: fields.user ?? "UDANA", team_id: team },
      api_app_id: "A1",
      token: "legacy",
      view: {
        id: viewId,
        team_id: team,
        callback_id: "cody_job_modal",
        private_metadata: JSON.stringify({ channel: fields.channel ?? "C1", teamId: team }),
        state: {
          values: {
            name: v(fields.name ?? "Migrate fetchJson"),
            type: { value: { type: "radio_buttons", selected_option: { value: fields.type ?? "code-pattern-update" } } },
            instructions: v(fields.instructions ?? "Replace fetchJson with http.get"),
            repositories: v(fields.repositories),
            base_branch: v(""),
            verify: v(fields.verify ?? "npm test"),
            options: { value: { type: "checkboxes", selected_options: [{ value: "pr" }] } },
          },
        },
      },
    }),
  }).toString();
}

/** A block button click body. */
export function button(actionId: string, value: string, user: string, from: Omit<From, "user"> = {}): string {
  const team = from.team ?? "T1";
  const channel = from.channel ?? "C1";
  return new URLSearchParams({
    payload: JSON.stringify({
      type: "block_actions",
      team: { id: team },
      user: { id: user, team_id: team },
      api_app_id: "A1",
      token: "legacy",
      trigger_id: "1337.43.efgh",
      channel: { id: channel },
      container: { type: "message", channel_id: channel, message_ts: "1.1" },
      actions: [{ type: "button", action_id: actionId, block_id: "b", value, action_ts: "1" }],
    }),
  }).toString();
}
