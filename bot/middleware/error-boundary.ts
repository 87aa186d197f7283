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

const INTERNAL_ERROR = '⚠️ internal error; see `kugetsu daemon logs`';

export interface AnswerOptions {
  /** A failed button press is told in an alert on the button rather than a message. */
  alertOnButtons?: boolean;
  /** What the log calls the failed handler. */
  what?: string;
}

/** Telegram's limit for the text of a callback query's answer. */
const ALERT_LIMIT = 200;

export function answerErrors<C extends Context>(
  home: Pick<HomeContext, 'scrubber'>,
  log: (line: string) => void,
  options: AnswerOptions = {},
): (err: BotError<C>) => Promise<void> {
  return async ({ error, ctx }) => {
    if (error instanceof UsageError || error instanceof OperationError) {
      const message = home.scrubber().scrub(error.message);
      await (options.alertOnButtons === true && ctx.callbackQuery !== undefined
        ? ctx.answerCallbackQuery({ text: message.slice(0, ALERT_LIMIT), show_alert: true })
        : ctx.reply(`⚠️ ${escapeHtml(message)}`, { parse_mode: 'HTML' }));
      return;
    }
    log(`${options.what ?? 'bot handler'} failed: ${home.scrubber().scrub(errorMessage(error))}`);
    await ctx.reply(INTERNAL_ERROR);
  };
}
