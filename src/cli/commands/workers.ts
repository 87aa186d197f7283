import { fleetView, workerLine } from '../../../core/operations/fleet.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('workers', argv, JSON_FLAG);
  expectPositionals('workers', positionals, 0, 0, USAGE['workers'] ?? '');
  return withHome(io, async (ctx, io) => {
    const view = await fleetView(ctx);
    if (values.json === true) {
      io.json(view === null ? { fleet: false, workers: [] } : { fleet: true, ...view });
      return 0;
    }
    if (view === null) {
      io.out('one machine: no workers (set KUGETSU_DATABASE_URL, see docs/scale-out.md)');
      return 0;
    }
    const now = Date.now();
    const cap = view.globalMaxAgents === null ? 'none' : String(view.globalMaxAgents);
    io.out(`global cap ${cap}, lease ${view.leaseMs / 1000}s`);
    for (const w of view.workers) io.out(workerLine(w, now));
    if (view.workers.length === 0) io.out('no worker has run a daemon yet');
    return 0;
  });
}
