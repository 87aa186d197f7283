import type { Context } from 'grammy';
import type { ConversationStorage } from '@grammyjs/conversations';
import type { BotStateRecords } from './store/bot-store.js';

/**
 * Conversation state in the bot's store, through the conversations plugin's storage interface, so a
 * daemon restart in the middle of "/delegate → what should the agent do?" loses nothing.
 */
export function storedConversations<C extends Context, S>(
  state: BotStateRecords,
): ConversationStorage<C, S> {
  const key = (chat: string): string => `conversation:${chat}`;
  return {
    read: async (chat: string) => {
      const raw = await state.get(key(chat));
      return raw === null ? undefined : (JSON.parse(raw) as never);
    },
    write: (chat: string, value) => state.set(key(chat), JSON.stringify(value)),
    delete: (chat: string) => state.delete(key(chat)),
  };
}
