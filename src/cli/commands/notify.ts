import { JSON_FLAG, expectPositionals, parse, subcommand } from '../args.js';
import { eventLine } from '../format.js';
import { withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('notify', argv, {
    ...JSON_FLAG,
    all: { type: 'boolean', short: 'a' },
  });
  const sub = subcommand('notify', positionals[0], ['list', 'clear'] as const, 'list');
  expectPositionals(`notify ${sub}`, positionals.slice(1), 0, 0, USAGE['notify'] ?? '');
  return withHome(io, async (ctx, io) => {
    if (sub === 'clear') {
      const cleared = await ctx.store.events.markRead();
      if (values.json === true) io.json({ cleared });
      else io.out(`marked ${cleared} notification(s) read`);
      return 0;
    }
    const events = await ctx.store.events.list({ unreadOnly: values.all !== true });
    if (values.json === true) io.json({ events });
    else io.out(events.length === 0 ? 'no unread notifications' : events.map(eventLine).join('\n'));
    return 0;
  });
}
