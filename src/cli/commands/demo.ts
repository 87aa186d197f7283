import { UsageError } from '../../../core/errors.js';
import { expectPositionals, parse } from '../args.js';
import type { Io } from '../io.js';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('demo', argv, {
    tasks: { type: 'string' },
    keep: { type: 'boolean' },
  });
  expectPositionals('demo', positionals, 0, 0, 'demo [--tasks N] [--keep]');
  const tasks = Number(values.tasks ?? '5');
  if (!Number.isInteger(tasks) || tasks < 1 || tasks > 20)
    throw new UsageError('demo: --tasks takes a number from 1 to 20');
  const { runDemo } = await import('../../demo/demo.js');
  return runDemo(io, { tasks, keep: values.keep === true });
}
