import { userInfo } from 'node:os';
import { describeResolution } from '../../../core/approvals/approval.js';
import { OperationError } from '../../../core/errors.js';
import {
  alreadyAnswered,
  answerApproval,
  parseApprovalId,
  type ApprovalVerdict,
} from '../../../core/operations/approvals.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

/** `approve ID [--task] [--answer TEXT]`: allows a permission, answers a question, gives a stalled agent time. */
export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('approve', argv, {
    ...JSON_FLAG,
    task: { type: 'boolean' },
    answer: { type: 'string' },
  });
  expectPositionals('approve', positionals, 1, 1, USAGE['approve'] ?? '');
  const verdict: ApprovalVerdict =
    values.answer !== undefined
      ? { kind: 'answer', text: values.answer }
      : { kind: 'allow', scope: values.task === true ? 'task' : 'once' };
  return resolveFromCli(
    'approve',
    parseApprovalId(positionals[0]),
    verdict,
    values.json === true,
    io,
  );
}

export function resolveFromCli(
  command: string,
  id: number,
  verdict: ApprovalVerdict,
  json: boolean,
  io: Io,
): Promise<number> {
  return withHome(io, async (ctx, io) => {
    const { approval, won } = await answerApproval(ctx, id, verdict, {
      channel: 'cli',
      who: cliUser(),
    });
    if (!won) throw new OperationError(`${command}: ${alreadyAnswered(approval)}`);
    if (json) io.json({ approval });
    else io.out(`approval #${approval.id}: ${describeResolution(approval)}`);
    return 0;
  });
}

function cliUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}
