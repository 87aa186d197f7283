import { telegramChecks } from '../../../bot/health/telegram-status.js';
import { doctor } from '../../../core/operations/setup.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { table, type Io } from '../io.js';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('doctor', argv, { ...JSON_FLAG, fix: { type: 'boolean' } });
  expectPositionals('doctor', positionals, 0, 0, 'doctor [--fix] [--json]');
  // Progress (a base session being created) goes to stderr: stdout stays the report.
  const checks = await doctor(
    process.env,
    values.fix === true,
    (line) => io.err(line),
    telegramChecks,
  );
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
  return ok ? 0 : 1;
}
