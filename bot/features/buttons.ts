/**
 * The session buttons of a push: Stop, and Destroy and Prune, which ask first — the
 * confirmation replaces the buttons, so they cannot be pressed twice.
 */
import { Composer } from 'grammy';
import { OperationError } from '../../core/errors.js';
import { destroySession, pruneSessions } from '../../core/operations/sessions.js';
import { stopSession } from '../../core/operations/tasks.js';
import type { BotContext } from '../bot-context.js';
import { buttonPattern } from '../callback-data.js';
import { keyboard } from '../keyboard.js';
import { confirmButtons, destroyedHtml, prunedHtml } from '../views/queue-view.js';
import type { FeatureDeps } from './feature-deps.js';
import { pressedTask, pressedTaskId } from './tasks-of.js';

export function buttonsFeature(deps: FeatureDeps): Composer<BotContext> {
  const { home } = deps;
  const composer = new Composer<BotContext>();
  const sessionOf = async (ctx: BotContext, what: string): Promise<string> => {
    const ref = (await pressedTask(home, ctx))?.issueRef ?? null;
    if (ref === null) throw new OperationError(`this task has no session to ${what}`);
    return ref;
  };

  composer.callbackQuery(buttonPattern('stop'), async (ctx) => {
    await stopSession(home, await sessionOf(ctx, 'stop'));
    await deps.ensureDaemon();
    await ctx.answerCallbackQuery({ text: 'Stopping…' });
  });

  for (const action of ['destroy', 'prune'] as const) {
    composer.callbackQuery(buttonPattern(action), async (ctx) => {
      await ctx.answerCallbackQuery();
      await ctx.editMessageReplyMarkup({
        reply_markup: keyboard(confirmButtons(`${action}!`, pressedTaskId(ctx))),
      });
    });
  }

  composer.callbackQuery(buttonPattern('cancel'), async (ctx) => {
    await ctx.answerCallbackQuery({ text: 'Cancelled' });
    await ctx.editMessageReplyMarkup({ reply_markup: undefined });
  });

  composer.callbackQuery(buttonPattern('destroy!'), async (ctx) => {
    const ref = await sessionOf(ctx, 'destroy');
    await ctx.answerCallbackQuery({ text: 'Destroying…' });
    await ctx.editMessageReplyMarkup({ reply_markup: undefined });
    const session = await destroySession(home, ref, false, deps.ensureDaemon);
    await ctx.reply(destroyedHtml(session.issueRef), { parse_mode: 'HTML' });
  });

  composer.callbackQuery(buttonPattern('prune!'), async (ctx) => {
    await ctx.answerCallbackQuery({ text: 'Pruning…' });
    await ctx.editMessageReplyMarkup({ reply_markup: undefined });
    await ctx.reply(prunedHtml(await pruneSessions(home, false)), { parse_mode: 'HTML' });
  });
  return composer;
}
