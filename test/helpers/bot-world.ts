/** A kugetsu home whose daemon runs the real bot against a fake Bot API: for the bot suites. */
import type { FakeTelegram } from './fake-telegram.js';
import { Sandbox, fixture } from './sandbox.js';

export const OWNER = { id: 111, first_name: 'Owner' };

/** A sandbox whose daemon runs the bot against `tg`, the owner allowed and notified. */
export function botSandbox(tg: FakeTelegram, settings: Record<string, string> = {}): Sandbox {
  return new Sandbox({
    KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh'),
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_ALLOWED_USERS: String(OWNER.id),
    TELEGRAM_NOTIFY_CHATS: String(OWNER.id),
    ...settings,
  });
}

/** Sets the sandbox up and starts its daemon; resolves once the bot polls. */
export async function startBot(sb: Sandbox, tg: FakeTelegram): Promise<void> {
  await sb.setup();
  await sb.ok(['daemon', 'start']);
  await tg.waitFor(() => tg.calls('getUpdates').length > 0);
}

/** What the user sees of a message's HTML. */
export function rendered(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** The texts of a message's inline buttons, row by row. */
export function buttonsOf(message: { reply_markup?: unknown } | undefined): string[][] {
  const markup = message?.reply_markup as { inline_keyboard?: { text: string }[][] } | undefined;
  return (markup?.inline_keyboard ?? []).map((row) => row.map((b) => b.text));
}
