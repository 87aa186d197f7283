import type { Context } from 'grammy';
import type { ConversationStorage } from '@grammyjs/conversations';
import type { Store } from '../core/store/store.js';

/**
 * Conversation state in SQLite, through the conversations plugin's storage interface, so a
 * daemon restart in the middle of "/delegate → what should the agent do?" loses nothing.
 */
export function sqliteConversationStorage<C extends Context, S>(
  store: Store,
): ConversationStorage<C, S> {
  const key = (chat: string): string => `conversation:${chat}`;
  return {
    read: (chat: string) => {
      const raw = store.getBotState(key(chat));
      return raw === null ? undefined : (JSON.parse(raw) as never);
    },
    write: (chat: string, state) => store.setBotState(key(chat), JSON.stringify(state)),
    delete: (chat: string) => store.deleteBotState(key(chat)),
  };
}
