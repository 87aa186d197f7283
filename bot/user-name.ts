import type { Context } from 'grammy';

/** How a Telegram user is named to others: `@username`, else their name. */
export function displayName(ctx: Context): string {
  const from = ctx.from;
  if (from === undefined) return 'unknown';
  return from.username !== undefined
    ? `@${from.username}`
    : [from.first_name, from.last_name ?? ''].join(' ').trim();
}
