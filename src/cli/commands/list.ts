import { listSessions } from '../../../core/operations/session-list.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { sessionsTable } from '../format.js';
import { withHome } from '../home.js';
import type { Io } from '../io.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('list', argv, {
    ...JSON_FLAG,
    all: { type: 'boolean', short: 'a' },
  });
  expectPositionals('list', positionals, 0, 0, 'list [--all] [--json]');
  return withHome(io, async (ctx, io) => {
    const sessions = await listSessions(ctx, values.all === true);
    if (values.json === true) io.json({ sessions });
    else
      io.out(
        sessions.length === 0 && values.all !== true
          ? 'no sessions in use or left (`kugetsu list --all` shows idle ones)'
          : sessionsTable(sessions),
      );
    return 0;
  });
}
