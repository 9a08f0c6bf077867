/**
 * The playground's stand-in for Slack (never used with real settings): the Web API the bot calls
 * (test/fakes/slack.ts: chat.postMessage/update/postEphemeral, views.open/update/push, auth.test,
 * with Slack's limits checked), and the other direction as Slack does it — slash commands, view
 * submissions and button clicks sent to the bot's `/slack/events`, form-encoded and signed with
 * the signing secret. Also derives what a person would see: the open modal, the channel's
 * messages and threads, and the ephemeral answers.
 */
import { randomBytes } from "node:crypto";
import { signSlackRequest, startFakeSlack, type FakeSlack } from "../../test/fakes/slack.ts";

/** The playground's one channel, team and person. */
export const PLAYGROUND = { channel: "CPLAYGROUND", team: "TPLAYGROUND", user: "UPLAYER", userName: "you" } as const;

/** What the page shows: the current modal (if any), the channel's messages with their replies, the ephemeral answers. */
export type PlaygroundView = {
  modal?: { id: string; view: Record<string, unknown> };
  messages: Array<{ ts: string; text?: string; blocks?: unknown[]; updates: number; replies: Array<{ ts: string; text?: string; blocks?: unknown[] }> }>;
  ephemerals: Array<{ text?: string; blocks?: unknown[] }>;
};

export type SlackStandIn = {
  /** The Web API base URL for the bot (`SLACK_API_URL`). */
  apiUrl: string;
  token: string;
  signingSecret: string;
  slack: FakeSlack;
  /** Where the bot listens (`http://127.0.0.1:<port>`); set once the bot is up. */
  botUrl?: string;
  /** `/cody <text>` typed by the playground's person; an ephemeral answer is recorded. */
  command(text: string): Promise<void>;
  /** Submits the open modal with `values` (Slack's view.state.values); returns the inline errors, if any. */
  submit(values: Record<string, unknown>): Promise<Record<string, string> | undefined>;
  /** Clicks a button: in the modal (`inModal`) or on a message `ts`. */
  click(input: { actionId: string; value?: string; blockId?: string; messageTs?: string; inModal?: boolean; values?: Record<string, unknown> }): Promise<void>;
  state(): PlaygroundView;
  /** The person closed the modal (its Cancel). */
  closeModal(): void;
  close(): Promise<void>;
};

/** Starts the stand-in (the bot's URL is set later, once the bot listens). */
export async function startSlackStandIn(): Promise<SlackStandIn> {
  const token = `xoxb-playground-${randomBytes(8).toString("hex")}`;
  const signingSecret = randomBytes(24).toString("hex");
  const slack = await startFakeSlack({ token });
  const ephemerals: PlaygroundView["ephemerals"] = [];
  let triggers = 0;

  const post = async (body: string): Promise<string> => {
    if (!standIn.botUrl) throw new Error("playground: the bot is not listening yet");
    const r = await fetch(`${standIn.botUrl}/slack/events`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...signSlackRequest(signingSecret, body) },
      body,
    });
    return r.text();
  };
  const who = { user: { id: PLAYGROUND.user, team_id: PLAYGROUND.team, username: PLAYGROUND.userName }, team: { id: PLAYGROUND.team }, api_app_id: "APLAYGROUND", token: "playground" };

  // The open modal, followed through the bot's views.open / views.push / views.update calls.
  let current: PlaygroundView["modal"];
  let seen = 0;
  let seq = 0;
  function modal(): PlaygroundView["modal"] {
    for (; seen < slack.calls.length; seen++) {
      const c = slack.calls[seen]!;
      if (c.status !== 200 || c.error) continue;
      if (c.method === "views.open" || c.method === "views.push") current = { id: `V${++seq}`, view: c.args.view as Record<string, unknown> };
      else if (c.method === "views.update" && current) current = { id: current.id, view: c.args.view as Record<string, unknown> };
    }
    return current;
  }

  const standIn: SlackStandIn = {
    apiUrl: slack.apiUrl,
    token,
    signingSecret,
    slack,
    async command(text) {
      const body = new URLSearchParams({
        token: "playground", team_id: PLAYGROUND.team, channel_id: PLAYGROUND.channel, user_id: PLAYGROUND.user, user_name: PLAYGROUND.userName,
        command: "/cody", text, trigger_id: `playground.${++triggers}`, response_url: "http://127.0.0.1:1/playground-no-response-url", api_app_id: "APLAYGROUND",
      }).toString();
      const answer = await post(body);
      if (answer) {
        try {
          const a = JSON.parse(answer) as { text?: string; blocks?: unknown[] };
          ephemerals.push({ ...(a.text ? { text: a.text } : {}), ...(a.blocks ? { blocks: a.blocks } : {}) });
        } catch {
          ephemerals.push({ text: answer });
        }
      }
    },
    async submit(values) {
      const m = modal();
      if (!m) throw new Error("playground: no modal is open");
      const payload = { type: "view_submission", ...who, trigger_id: `playground.${++triggers}`, view: { ...m.view, id: m.id, team_id: PLAYGROUND.team, hash: `h${m.id}`, state: { values } } };
      const answer = await post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
      if (answer) {
        const a = JSON.parse(answer) as { response_action?: string; errors?: Record<string, string> };
        if (a.response_action === "errors") return a.errors ?? {};
      }
      modal();
      current = undefined;
      return undefined;
    },
    async click({ actionId, value, blockId, messageTs, inModal, values }) {
      const m = inModal ? modal() : undefined;
      const payload = {
        type: "block_actions", ...who, trigger_id: `playground.${++triggers}`,
        channel: { id: PLAYGROUND.channel },
        ...(m
          ? { container: { type: "view", view_id: m.id }, view: { ...m.view, id: m.id, team_id: PLAYGROUND.team, hash: `h${m.id}`, state: { values: values ?? {} } } }
          : { container: { type: "message", channel_id: PLAYGROUND.channel, message_ts: messageTs ?? "" }, message: { ts: messageTs ?? "" } }),
        actions: [{ type: "button", action_id: actionId, block_id: blockId ?? "b", ...(value !== undefined ? { value } : {}), action_ts: String(Date.now() / 1000) }],
      };
      await post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    },
    state() {
      const inChannel = slack.messages.filter((x) => x.channel === PLAYGROUND.channel);
      const replies = slack.calls.filter((c) => c.method === "chat.postEphemeral" && c.status === 200 && !c.error).map((c) => ({ ...(c.args.text ? { text: String(c.args.text) } : {}), ...(c.args.blocks ? { blocks: c.args.blocks as unknown[] } : {}) }));
      const m = modal();
      return {
        ...(m ? { modal: m } : {}),
        messages: inChannel.filter((x) => !x.threadTs).map((x) => ({
          ts: x.ts, text: x.text, blocks: x.blocks, updates: x.updates,
          replies: inChannel.filter((r) => r.threadTs === x.ts).map((r) => ({ ts: r.ts, text: r.text, blocks: r.blocks })),
        })),
        ephemerals: [...ephemerals, ...replies],
      };
    },
    closeModal() {
      modal();
      current = undefined;
    },
    close: () => slack.close(),
  };
  return standIn;
}
