import { botHealthLines } from '../../../bot/health/health-report.js';
import { statusWithTelegram } from '../../../bot/health/telegram-status.js';
import { fleetView, workerLine } from '../../../core/operations/fleet.js';
import { statusDocument } from '../../json-documents.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { withHome } from '../home.js';
import type { Io } from '../io.js';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('status', argv, JSON_FLAG);
  expectPositionals('status', positionals, 0, 0, 'status [--json]');
  const { status, telegram } = await statusWithTelegram(process.env);
  const fleet =
    status === 'kugetsu_not_initialized' ? null : await withHome(io, (ctx) => fleetView(ctx));
  if (values.json === true)
    io.json({ ...statusDocument({ status, telegram }), ...(fleet === null ? {} : { fleet }) });
  else {
    // The first line stays the bare status word: scripts compare it.
    io.out(status);
    if (telegram !== null) for (const line of botHealthLines(telegram, Date.now())) io.out(line);
    for (const w of fleet?.workers ?? []) io.out(`worker ${workerLine(w, Date.now())}`);
  }
  return status === 'ok' ? 0 : 1;
}
