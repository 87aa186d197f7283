import { pruneSessions } from '../../../core/operations/sessions.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { withHome } from '../home.js';
import type { Io } from '../io.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('prune', argv, {
    ...JSON_FLAG,
    force: { type: 'boolean' },
  });
  expectPositionals('prune', positionals, 0, 0, 'prune [--force] [--json]');
  return withHome(io, async (ctx, io) => {
    const report = await pruneSessions(ctx, values.force === true);
    if (values.json === true) io.json(report);
    else {
      for (const ref of report.pruned) io.out(`pruned ${ref}`);
      for (const kept of report.kept) io.out(`kept ${kept.issueRef}: ${kept.reason}`);
      if (report.pruned.length === 0 && report.kept.length === 0) io.out('no sessions');
    }
    return 0;
  });
}
