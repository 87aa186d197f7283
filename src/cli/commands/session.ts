import { moveSession } from '../../../core/operations/fleet.js';
import { JSON_FLAG, expectPositionals, parse, subcommand } from '../args.js';
import { withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('session', argv, JSON_FLAG);
  subcommand('session', positionals[0], ['move'] as const);
  expectPositionals('session', positionals, 3, 3, USAGE['session'] ?? '');
  return withHome(io, async (ctx, io) => {
    const moved = await moveSession(ctx, positionals[1] ?? '', positionals[2] ?? '');
    if (values.json === true) io.json(moved);
    else
      io.out(
        `session ${moved.issueRef} moved to worker ${moved.to}${moved.from === null ? '' : ` (from ${moved.from})`}: its worktree is made there from the pushed branch`,
      );
    return 0;
  });
}
