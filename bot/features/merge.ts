/**
 * The Merge button of a completion whose session has an open pull request: a tap asks "Yes,
 * merge / Cancel" in a message of its own (the completion keeps its buttons), and "Yes, merge"
 * merges through the forge's merge API — the same operation as `kugetsu merge REF -y`.
 */
import { Composer, GrammyError, type Context } from 'grammy';
import { OperationError } from '../../core/errors.js';
import { mergeCandidate, mergeSession } from '../../core/operations/merge.js';
import type { FeatureDeps } from './feature-deps.js';
import { mergeKeyboard, mergeQuestion, mergedText } from '../views/merge-view.js';
import { keyboard } from '../keyboard.js';

const ASK = /^merge:([0-9]{1,10})$/;
const CONFIRMED = /^merge!:([0-9]{1,10})$/;

export function mergeFeature<C extends Context>(deps: FeatureDeps): Composer<C> {
  const { home } = deps;
  const composer = new Composer<C>();
  const refOf = async (taskId: number): Promise<string> => {
    const ref = (await home.store.tasks.get(taskId))?.issueRef ?? null;
    if (ref === null) throw new OperationError('this task has no session to merge');
    return ref;
  };

  composer.callbackQuery(ASK, async (ctx) => {
    const taskId = Number(ASK.exec(ctx.callbackQuery?.data ?? '')?.[1]);
    await ctx.answerCallbackQuery();
    const { session, pullRequest } = await mergeCandidate(home, await refOf(taskId));
    if (pullRequest.state !== 'open') {
      // Merged or closed since the push: say so (the forge is asked), instead of asking.
      await ctx.reply(mergedText(await mergeSession(home, session.issueRef)), {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
      });
      return;
    }
    await ctx.reply(mergeQuestion(session.issueRef, pullRequest), {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      reply_markup: keyboard(mergeKeyboard(taskId)),
    });
  });

  composer.callbackQuery(CONFIRMED, async (ctx) => {
    const taskId = Number(CONFIRMED.exec(ctx.callbackQuery?.data ?? '')?.[1]);
    await ctx.answerCallbackQuery({ text: 'Merging…' });
    // The question cannot be answered twice. A second tap that raced the first finds the
    // buttons gone already ("not modified") and learns from the forge that it is merged.
    await ctx.editMessageReplyMarkup({ reply_markup: undefined }).catch((err: unknown) => {
      if (!(err instanceof GrammyError && err.description.includes('not modified'))) throw err;
    });
    const outcome = await mergeSession(home, await refOf(taskId));
    await ctx.reply(mergedText(outcome), {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
    });
  });
  return composer;
}
