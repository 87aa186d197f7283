/**
 * Which session a reply continues: a Continue prompt records its target in `bot_state`; any
 * other kugetsu message is a recorded delivery of an event, which names its issue (or its PM
 * task). Shared by text replies and file replies, so both read the same records.
 */
import type { Store } from '../core/store/store.js';

const PROMPT_PREFIX = 'prompt:';
/** What a Continue prompt for the PM agent stores in place of an issue ref. */
export const PM_TARGET = 'pm';

export function promptKey(chatId: number, messageId: number): string {
  return `${PROMPT_PREFIX}${chatId}:${messageId}`;
}

/** The issue ref (or {@link PM_TARGET}) a reply to `messageId` continues; null: none. */
export function replyTarget(store: Store, chatId: number, messageId: number): string | null {
  const delivery = store.deliveryByMessage(chatId, messageId);
  return (
    store.getBotState(promptKey(chatId, messageId)) ??
    delivery?.issueRef ??
    (delivery !== null && store.getTask(delivery.taskId)?.kind === 'pm' ? PM_TARGET : null)
  );
}
