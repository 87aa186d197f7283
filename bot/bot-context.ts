import type { ConversationFlavor } from '@grammyjs/conversations';
import type { Context } from 'grammy';

/** The context every handler of kugetsu's bot gets. */
export type BotContext = ConversationFlavor<Context>;
