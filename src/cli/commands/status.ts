import { botHealthLines } from '../../../bot/health/health-report.js';
import { statusWithTelegram } from '../../../bot/health/telegram-status.js';
import { statusDocument } from '../../json-documents.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import type { Io } from '../io.js';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('status', argv, JSON_FLAG);
  expectPositionals('status', positionals, 0, 0, 'status [--json]');
  const { status, telegram } = await statusWithTelegram(process.env);
  if (values.json === true) io.json(statusDocument({ status, telegram }));
  else {
    // The first line stays the bare status word: scripts compare it.
    io.out(status);
    if (telegram !== null) for (const line of botHealthLines(telegram, Date.now())) io.out(line);
  }
  return status === 'ok' ? 0 : 1;
}
