import { UsageError } from '../../../core/errors.js';
import { destroySession } from '../../../core/operations/sessions.js';
import { destroyBaseSession, destroyPmAgent } from '../../../core/operations/setup.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { ensureDaemon } from '../../../core/daemon/daemon-control.js';
import { daemonLauncher, withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('destroy', argv, {
    ...JSON_FLAG,
    yes: { type: 'boolean', short: 'y' },
    force: { type: 'boolean' },
    base: { type: 'boolean' },
    'pm-agent': { type: 'boolean' },
  });
  const usage = USAGE['destroy'] ?? '';
  const special = values.base === true ? 'base' : values['pm-agent'] === true ? 'pm-agent' : null;
  if (special !== null) {
    expectPositionals('destroy', positionals, 0, 0, usage);
    if (values.yes !== true)
      throw new UsageError(`destroy --${special} deletes it for good: add -y to confirm`);
  } else {
    expectPositionals('destroy', positionals, 1, 1, usage);
  }
  return withHome(io, async (ctx, io) => {
    if (special === 'base') await destroyBaseSession(ctx);
    else if (special === 'pm-agent') await destroyPmAgent(ctx);
    else {
      const session = await destroySession(ctx, positionals[0] ?? '', values.force === true, () =>
        ensureDaemon(ctx, daemonLauncher()),
      );
      if (values.json === true) io.json({ destroyed: session.issueRef });
      else io.out(`destroyed ${session.issueRef}: worktree and branch ${session.branch} removed`);
      return 0;
    }
    if (values.json === true) io.json({ destroyed: special });
    else
      io.out(
        `destroyed the ${special === 'base' ? 'base session' : 'PM agent'} (\`kugetsu doctor --fix\` recreates it)`,
      );
    return 0;
  });
}
