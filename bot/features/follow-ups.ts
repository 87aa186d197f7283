/**
 * Follow-ups on a session: `/continue REF …`, the Continue button (a question a reply
 * answers), and a plain reply to any kugetsu notification, which continues its session.
 */
import { Composer } from 'grammy';
import { OperationError, UsageError } from '../../core/errors.js';
import { askPm, continueTask } from '../../core/operations/tasks.js';
import type { BotContext } from '../bot-context.js';
import { buttonPattern } from '../callback-data.js';
import { PM_TARGET, promptKey, replyTarget } from '../reply-target.js';
import { continuePromptHtml } from '../views/queue-view.js';
import { queuedHtml } from '../views/request-view.js';
import type { FeatureDeps } from './feature-deps.js';
import { pressedTask } from './tasks-of.js';

/** The commands and buttons; before the other features' message handlers. */
export function followUpFeature(deps: FeatureDeps): Composer<BotContext> {
  const { home } = deps;
  const composer = new Composer<BotContext>();

  composer.command('continue', async (ctx) => {
    const [ref, ...rest] = ctx.match.trim().split(/\s+/);
    if (ref === undefined || ref === '' || rest.length === 0)
      throw new UsageError('usage: /continue REF what to do next');
    const queued = await continueTask(home, ref, rest.join(' '));
    await deps.ensureDaemon();
    await ctx.reply(queuedHtml(queued.task), { parse_mode: 'HTML' });
  });

  composer.callbackQuery(buttonPattern('continue'), async (ctx) => {
    const task = await pressedTask(home, ctx);
    const pm = task?.kind === 'pm';
    const ref = task?.issueRef ?? null;
    if (ref === null && !pm) throw new OperationError('this task has no session to continue');
    await ctx.answerCallbackQuery();
    const prompt = await ctx.reply(continuePromptHtml(pm ? null : ref), {
      parse_mode: 'HTML',
      reply_markup: { force_reply: true, input_field_placeholder: 'the follow-up' },
    });
    await deps.bot.state.set(promptKey(prompt.chat.id, prompt.message_id), ref ?? PM_TARGET);
  });
  return composer;
}

/** A text reply to a kugetsu message; after the features that take replies of their own. */
export function replyFeature(deps: FeatureDeps): Composer<BotContext> {
  const { home } = deps;
  const composer = new Composer<BotContext>();
  composer.on('message:text', async (ctx, next) => {
    const replied = ctx.message.reply_to_message;
    if (replied === undefined || replied.from?.id !== ctx.me.id) return next();
    const ref = await replyTarget(home.store, deps.bot, ctx.chat.id, replied.message_id);
    if (ref === null)
      throw new OperationError('that message belongs to no session: use /continue REF …');
    const queued =
      ref === PM_TARGET
        ? await askPm(home, ctx.message.text)
        : await continueTask(home, ref, ctx.message.text);
    await deps.ensureDaemon();
    await ctx.reply(queuedHtml(queued.task), { parse_mode: 'HTML' });
  });
  return composer;
}
