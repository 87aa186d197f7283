import { InlineKeyboard } from 'grammy';
import type { Button } from './views/event-message.js';

/** Rows of buttons as Telegram's inline keyboard; none at all is no keyboard. */
export function keyboard(rows: Button[][]): InlineKeyboard | undefined {
  if (rows.length === 0) return undefined;
  const kb = new InlineKeyboard();
  rows.forEach((row, i) => {
    if (i > 0) kb.row();
    for (const b of row) {
      if (b.url === undefined) kb.text(b.text, b.data);
      else kb.url(b.text, b.url);
    }
  });
  return kb;
}
