/**
 * Only allowed users (TELEGRAM_ALLOWED_USERS, or paired) get answers; anyone else gets one
 * short refusal and learns nothing. A stranger's /start in a private chat may ask for access:
 * a one-time code the owner approves on the server.
 */
import type { Context, MiddlewareFn } from 'grammy';
import { approvedUsers, requestPairing } from '../pairing.js';
import type { BotStateRecords } from '../store/bot-store.js';
import { displayName } from '../user-name.js';
import { REFUSAL, refusalHtml } from '../views/help-view.js';

export function onlyAllowed<C extends Context>(
  configured: readonly number[],
  state: BotStateRecords,
): MiddlewareFn<C> {
  const allowed = new Set(configured);
  return async (ctx, next) => {
    const user = ctx.from?.id;
    if (user !== undefined && (allowed.has(user) || (await approvedUsers(state)).includes(user)))
      return next();
    if (ctx.callbackQuery !== undefined) {
      await ctx.answerCallbackQuery({ text: REFUSAL });
      return;
    }
    if (ctx.message === undefined || ctx.chat?.type !== 'private' || user === undefined) return;
    const code =
      ctx.message.text?.startsWith('/start') === true
        ? await requestPairing(state, user, displayName(ctx))
        : null;
    await ctx.reply(refusalHtml(code), code === null ? {} : { parse_mode: 'HTML' });
  };
}
