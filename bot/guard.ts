/**
 * The error boundary of the chat features: a usage or operation error is the one line the
 * user reads; anything else is a bug, logged (scrubbed) and answered without details. Answers
 * stay in the forum topic the update came from: grammY's `ctx.reply` keeps `message_thread_id`.
 */
import type { Context } from 'grammy';
import { OperationError, UsageError, errorMessage } from '../core/errors.js';
import type { HomeContext } from '../core/home-context.js';
import { escapeHtml } from './format.js';
import type { BotStore } from './store/bot-store.js';

export interface FeatureDeps {
  home: HomeContext;
  /** The bot's own records: pushes, prompts, pending requests, topics. */
  bot: BotStore;
  /** The bot token: only to download files, never shown. */
  token: string;
  /** Starts a daemon if none runs (a standalone `kugetsu bot` needs one to run tasks). */
  ensureDaemon: () => Promise<unknown>;
  log: (line: string) => void;
}

export type Handler<C extends Context> = (ctx: C) => Promise<unknown>;

export function guard(deps: Pick<FeatureDeps, 'home' | 'log'>) {
  return <C extends Context>(handler: Handler<C>) =>
    async (ctx: C): Promise<void> => {
      try {
        await handler(ctx);
      } catch (err) {
        if (err instanceof UsageError || err instanceof OperationError) {
          await ctx.reply(`⚠️ ${escapeHtml(deps.home.scrubber().scrub(err.message))}`, {
            parse_mode: 'HTML',
          });
        } else {
          deps.log(`bot handler failed: ${deps.home.scrubber().scrub(errorMessage(err))}`);
          await ctx.reply('⚠️ internal error; see `kugetsu daemon logs`');
        }
      }
    };
}
