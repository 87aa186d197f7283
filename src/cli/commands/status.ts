import { botHealthLines } from '../../../core/bot-health-report.js';
import { homeStatus } from '../../../core/operations/setup.js';
import { statusDocument } from '../../json-documents.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import type { Io } from '../io.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('status', argv, JSON_FLAG);
  expectPositionals('status', positionals, 0, 0, 'status [--json]');
  const home = homeStatus(process.env);
  const { status, telegram } = home;
  if (values.json === true) io.json(statusDocument(home));
  else {
    // The first line stays the bare status word: scripts compare it.
    io.out(status);
    if (telegram !== null) for (const line of botHealthLines(telegram, Date.now())) io.out(line);
  }
  return Promise.resolve(status === 'ok' ? 0 : 1);
}
