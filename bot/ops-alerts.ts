/**
 * Alarms into a Slack ops channel through the bot itself (ALARM_SLACK_CHANNEL, issue 23): both SNS
 * topics (page, ticket; terraform/alarms.ts) deliver to the bot Lambda, which posts one line per
 * notification. CloudWatch alarm messages (JSON), EventBridge inputs (a quoted string) and budget
 * notifications (plain text) all come out readable.
 */

/** The SNS event Lambda receives. */
export type SnsEvent = { Records: { EventSource: string; Sns: { TopicArn: string; Subject?: string | null; Message: string } }[] };

/** True for an SNS delivery. */
export function isSnsEvent(event: object): event is SnsEvent {
  const records = (event as { Records?: unknown }).Records;
  return Array.isArray(records) && records.length > 0 && (records[0] as { EventSource?: string }).EventSource === "aws:sns";
}

/** One Slack line for an SNS notification: severity from the topic (`…-alarms` pages), then what happened. */
export function alertText(record: SnsEvent["Records"][number]["Sns"]): string {
  const severity = record.TopicArn.endsWith("-alarms") ? "🚨 page" : "🎫 ticket";
  let body: string;
  try {
    const m = JSON.parse(record.Message) as unknown;
    if (typeof m === "string") body = m;
    else if (m && typeof m === "object" && "AlarmName" in m) {
      const a = m as { AlarmName: string; NewStateValue?: string; NewStateReason?: string; AlarmDescription?: string };
      const icon = a.NewStateValue === "OK" ? "✅" : a.NewStateValue === "ALARM" ? "🔴" : "⚪";
      body = `${icon} *${a.AlarmName}* is ${a.NewStateValue ?? "?"}: ${a.AlarmDescription ?? ""}${a.NewStateReason ? `\n> ${a.NewStateReason}` : ""}`;
    } else body = record.Message;
  } catch {
    body = record.Subject ? `*${record.Subject}*\n${record.Message}` : record.Message;
  }
  return `${severity} · ${body}`.slice(0, 3000);
}

/** Posts every record of `event` into `channel` with `post` (chat.postMessage); returns how many. */
export async function postAlerts(event: SnsEvent, channel: string, post: (channel: string, text: string) => Promise<unknown>): Promise<number> {
  for (const r of event.Records) await post(channel, alertText(r.Sns));
  return event.Records.length;
}
