/**
 * What is written in a session's forum topic — text, a file, a voice note — continues that
 * session (bot/topic-router.ts makes the topics and sends the pushes into them).
 */
import { Composer, type Context } from 'grammy';
import { OperationError } from '../../core/errors.js';
import { continueTask } from '../../core/operations/tasks.js';
import { isCommand } from '../message-kind.js';
import { queuedHtml } from '../views/request-view.js';
import { incomingFile, queueWithFile } from './attachments.js';
import type { FeatureDeps } from './feature-deps.js';
import { hearVoice } from './voice.js';

export function topicsFeature<C extends Context>(deps: FeatureDeps): Composer<C> {
  const { home } = deps;
  const composer = new Composer<C>();
  composer.on('message', async (ctx, next) => {
    const message = ctx.message;
    const thread = message.is_topic_message === true ? message.message_thread_id : undefined;
    const topic =
      thread === undefined ? null : await deps.bot.topics.byThread(message.chat.id, thread);
    if (topic === null || topic.closedAt !== null || isCommand(message)) return next();
    const ref = topic.issueRef;
    const file = incomingFile(message);
    if (file !== null) {
      await queueWithFile(deps, ctx, { kind: 'continue', ref, text: message.caption ?? '' }, file);
      return;
    }
    let text = message.text;
    if (message.voice !== undefined) {
      const heard = await hearVoice(deps, ctx);
      if (heard === null) return;
      text = heard;
    }
    if (text === undefined) throw new OperationError('send text, a file or a voice note here');
    const queued = await continueTask(home, ref, text);
    await deps.ensureDaemon();
    await ctx.reply(queuedHtml(queued.task), { parse_mode: 'HTML' });
  });
  return composer;
}
