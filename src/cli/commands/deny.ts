import { parseApprovalId } from '../../../core/operations/approvals.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';
import { resolveFromCli } from './approve.js';

/** `deny ID [--message TEXT]`: refuses a permission or a question, stops a stalled agent. */
export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('deny', argv, {
    ...JSON_FLAG,
    message: { type: 'string', short: 'm' },
  });
  expectPositionals('deny', positionals, 1, 1, USAGE['deny'] ?? '');
  const message = values.message?.trim();
  return resolveFromCli(
    'deny',
    parseApprovalId(positionals[0]),
    { kind: 'deny', message: message === undefined || message === '' ? null : message },
    values.json === true,
    io,
  );
}
