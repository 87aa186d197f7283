import { doctor } from '../../../core/operations/setup.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { table, type Io } from '../io.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('doctor', argv, { ...JSON_FLAG, fix: { type: 'boolean' } });
  expectPositionals('doctor', positionals, 0, 0, 'doctor [--fix] [--json]');
  const checks = doctor(process.env, values.fix === true);
  const ok = checks.every((c) => c.status !== 'fail');
  if (values.json === true) io.json({ ok, checks });
  else
    io.out(
      table(
        checks.map((c) => [
          c.status === 'fail' ? 'FAIL' : c.status,
          c.name,
          `${c.detail}${c.fixed === true ? ' (fixed)' : ''}`,
        ]),
      ),
    );
  return Promise.resolve(ok ? 0 : 1);
}
