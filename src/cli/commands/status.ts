import { homeStatus } from '../../../core/operations/setup.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import type { Io } from '../io.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('status', argv, JSON_FLAG);
  expectPositionals('status', positionals, 0, 0, 'status [--json]');
  const status = homeStatus(process.env);
  if (values.json === true) io.json({ status });
  else io.out(status);
  return Promise.resolve(status === 'ok' ? 0 : 1);
}
