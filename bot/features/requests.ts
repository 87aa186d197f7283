/**
 * Plain text is a request: text that is neither a command nor a reply goes to `delegate`. A
 * text naming an issue is queued for it at once; any other would go to the PM agent, so the bot
 * asks first ("Send to the PM agent?" Yes / Cancel). The pending text waits in `bot_state`, so a
 * restart between the question and the tap loses nothing, and it is taken out in one statement,
 * so a second tap (or a redelivered one) never queues twice.
 */
import { randomBytes } from 'node:crypto';
import { Composer, type Context } from 'grammy';
import { parseAgentName } from '../../core/agents/registry.js';
import { askPm, delegate, validateMessage } from '../../core/operations/tasks.js';
import { targetInText } from '../../core/targets.js';
import type { FeatureDeps } from './feature-deps.js';
import { isCommand, isRealReply } from '../message-kind.js';
import { ALREADY_HANDLED, pmKeyboard, pmQuestionHtml, queuedHtml } from '../views/request-view.js';
import { parseTaskFlags } from '../task-flags.js';
import { keyboard } from '../keyboard.js';

const PENDING = 'request:';
const SEND = /^pm-send:([0-9a-f]{16})$/;
const DROP = /^pm-drop:([0-9a-f]{16})$/;
/** Questions nobody answered are forgotten after a week. */
const PENDING_TTL_MS = 7 * 86_400_000;

/**
 * Queues `text` as a request from this chat: for the issue it names, or — after the user
 * confirms — for the PM agent. Voice transcripts come through here too.
 */
export async function takeRequest(deps: FeatureDeps, ctx: Context, text: string): Promise<void> {
  const { home } = deps;
  const flags = parseTaskFlags(text);
  const message = validateMessage(flags.message);
  const options = { agent: parseAgentName(flags.agent), model: flags.model };
  // Promise.resolve: a comparison with null would still compile if this became async.
  if ((await Promise.resolve(targetInText(home, message))) !== null) {
    const result = await delegate(home, message, options);
    await deps.ensureDaemon();
    await ctx.reply(queuedHtml(result.task, result.note), { parse_mode: 'HTML' });
    return;
  }
  await forgetStale(deps);
  const id = randomBytes(8).toString('hex');
  await deps.bot.state.set(`${PENDING}${id}`, text);
  try {
    await ctx.reply(pmQuestionHtml(message), {
      parse_mode: 'HTML',
      reply_markup: keyboard(pmKeyboard(id)),
    });
  } catch (err) {
    await deps.bot.state.delete(`${PENDING}${id}`);
    throw err;
  }
}

async function forgetStale(deps: FeatureDeps, now = Date.now()): Promise<void> {
  for (const entry of await deps.bot.state.list(PENDING)) {
    if (now - entry.updatedAt > PENDING_TTL_MS) await deps.bot.state.delete(entry.key);
  }
}

export function requestFeature<C extends Context>(deps: FeatureDeps): Composer<C> {
  const { home } = deps;
  const composer = new Composer<C>();

  composer.on('message:text', async (ctx, next) => {
    if (isCommand(ctx.message) || isRealReply(ctx.message)) return next();
    await takeRequest(deps, ctx, ctx.message.text);
  });

  composer.callbackQuery(SEND, async (ctx) => {
    const id = SEND.exec(ctx.callbackQuery?.data ?? '')?.[1] ?? '';
    const key = `${PENDING}${id}`;
    const text = await deps.bot.state.take(key);
    if (text === null) {
      await ctx.answerCallbackQuery({ text: ALREADY_HANDLED });
      return;
    }
    let queued;
    try {
      const flags = parseTaskFlags(text);
      queued = await askPm(home, flags.message, {
        agent: parseAgentName(flags.agent),
        model: flags.model,
      });
    } catch (err) {
      // Not queued: the question stays answerable.
      await deps.bot.state.set(key, text);
      await ctx.answerCallbackQuery();
      throw err;
    }
    await ctx.answerCallbackQuery({ text: 'Sent' });
    await deps.ensureDaemon();
    await ctx.editMessageText(queuedHtml(queued.task), { parse_mode: 'HTML' });
  });

  composer.callbackQuery(DROP, async (ctx) => {
    const id = DROP.exec(ctx.callbackQuery?.data ?? '')?.[1] ?? '';
    const text = await deps.bot.state.take(`${PENDING}${id}`);
    await ctx.answerCallbackQuery({ text: text === null ? ALREADY_HANDLED : 'Cancelled' });
    if (text !== null) await ctx.editMessageText('Cancelled: nothing was sent.');
  });
  return composer;
}
