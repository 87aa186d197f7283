/**
 * Telegram redelivers updates whose offset was not confirmed before a restart; the last
 * handled update id lives in the bot's store, so a command never runs twice.
 */
import type { Context, MiddlewareFn } from 'grammy';
import type { BotStateRecords } from '../store/bot-store.js';

const LAST_UPDATE = 'last_update_id';

export function skipHandledUpdates<C extends Context>(state: BotStateRecords): MiddlewareFn<C> {
  return async (ctx, next) => {
    const last = Number((await state.get(LAST_UPDATE)) ?? '0');
    if (ctx.update.update_id <= last) return;
    await state.set(LAST_UPDATE, String(ctx.update.update_id));
    await next();
  };
}
