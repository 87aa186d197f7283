import {
  describeRequest,
  describeResolution,
  type Approval,
} from '../../../core/approvals/approval.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { withHome } from '../home.js';
import { ago, oneLine, table, type Io } from '../io.js';
import { USAGE } from '../usage.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('approvals', argv, {
    ...JSON_FLAG,
    all: { type: 'boolean', short: 'a' },
  });
  expectPositionals('approvals', positionals, 0, 0, USAGE['approvals'] ?? '');
  return withHome(io, async (ctx, io) => {
    const approvals = await ctx.store.approvals.list({ all: values.all === true });
    if (values.json === true) io.json({ approvals });
    else
      io.out(
        approvals.length === 0
          ? 'nothing waits for an answer (`kugetsu approvals --all` shows answered ones)'
          : approvalsTable(approvals),
      );
    return 0;
  });
}

function approvalsTable(approvals: Approval[], now = Date.now()): string {
  return table([
    ['ID', 'TASK', 'TARGET', 'KIND', 'ASKED', 'STATE', 'WHAT'],
    ...approvals.map((a) => [
      `#${a.id}`,
      `#${a.taskId}`,
      a.issueRef ?? '(PM agent)',
      a.kind,
      ago(a.createdAt, now),
      a.state === 'open'
        ? `open, ${Math.max(0, Math.ceil((a.expiresAt - now) / 60_000))}m left`
        : oneLine(describeResolution(a), 40),
      oneLine(`${a.agent} ${describeRequest(a)}${a.reason === null ? '' : ` — ${a.reason}`}`, 100),
    ]),
  ]);
}
