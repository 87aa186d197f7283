/**
 * What the user reads when a handler fails, for grammY's `errorBoundary`: a usage or operation
 * error is its one line; anything else is a bug, logged (scrubbed) and answered without
 * details. Answers stay in the forum topic the update came from: `ctx.reply` keeps
 * `message_thread_id`.
 */
import type { BotError, Context } from 'grammy';
import { OperationError, UsageError, errorMessage } from '../../core/errors.js';
import type { HomeContext } from '../../core/home-context.js';
import { escapeHtml } from '../views/format.js';

export const INTERNAL_ERROR = '⚠️ internal error; see `kugetsu daemon logs`';

export function answerErrors<C extends Context>(
  home: Pick<HomeContext, 'scrubber'>,
  log: (line: string) => void,
): (err: BotError<C>) => Promise<void> {
  return async ({ error, ctx }) => {
    if (error instanceof UsageError || error instanceof OperationError) {
      await ctx.reply(`⚠️ ${escapeHtml(home.scrubber().scrub(error.message))}`, {
        parse_mode: 'HTML',
      });
      return;
    }
    log(`bot handler failed: ${home.scrubber().scrub(errorMessage(error))}`);
    await ctx.reply(INTERNAL_ERROR);
  };
}
