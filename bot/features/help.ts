/** `/help` and `/start`, and the answer to whatever no other feature took. */
import { Composer } from 'grammy';
import type { BotContext } from '../bot-context.js';
import { HINT, helpHtml } from '../views/help-view.js';

export function helpFeature(): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command(['help', 'start'], (ctx) => ctx.reply(helpHtml(), { parse_mode: 'HTML' }));
  return composer;
}

/** Last in the chain: text nobody took gets the hint, a button nobody knows says so. */
export function fallbackFeature(): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on('message:text', (ctx) => ctx.reply(HINT));
  composer.on('callback_query:data', (ctx) =>
    ctx.answerCallbackQuery({ text: 'This button is no longer valid.' }),
  );
  return composer;
}
