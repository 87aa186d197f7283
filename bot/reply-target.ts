/**
 * Which session a reply continues: a Continue prompt records its target in `bot_state`; any
 * other kugetsu message is a recorded delivery of an event, which names its issue (or its PM
 * task). Shared by text replies and file replies, so both read the same records.
 */
import type { StoreApi } from '../core/store/store-interface.js';
import type { BotStore } from './store/bot-store.js';

const PROMPT_PREFIX = 'prompt:';
/** What a Continue prompt for the PM agent stores in place of an issue ref. */
export const PM_TARGET = 'pm';

export function promptKey(chatId: number, messageId: number): string {
  return `${PROMPT_PREFIX}${chatId}:${messageId}`;
}

/** The issue ref (or {@link PM_TARGET}) a reply to `messageId` continues; null: none. */
export async function replyTarget(
  store: Pick<StoreApi, 'tasks'>,
  bot: Pick<BotStore, 'deliveries' | 'state'>,
  chatId: number,
  messageId: number,
): Promise<string | null> {
  const prompt = await bot.state.get(promptKey(chatId, messageId));
  if (prompt !== null) return prompt;
  const delivery = await bot.deliveries.byMessage(chatId, messageId);
  if (delivery === null) return null;
  if (delivery.issueRef !== null) return delivery.issueRef;
  return (await store.tasks.get(delivery.taskId))?.kind === 'pm' ? PM_TARGET : null;
}
