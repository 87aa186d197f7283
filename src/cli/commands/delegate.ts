import { parseAgentName } from '../../../core/agents/registry.js';
import { ensureDaemon } from '../../../core/daemon/daemon-control.js';
import { delegate } from '../../../core/operations/tasks.js';
import { delegatedDocument } from '../../json-documents.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { daemonLauncher, withHome } from '../home.js';
import type { Io } from '../io.js';
import { messageArg } from '../message.js';
import { USAGE } from '../usage.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('delegate', argv, {
    ...JSON_FLAG,
    agent: { type: 'string' },
    model: { type: 'string' },
  });
  expectPositionals('delegate', positionals, 1, Number.MAX_SAFE_INTEGER, USAGE['delegate'] ?? '');
  return withHome(io, async (ctx, io) => {
    const result = await delegate(
      ctx,
      positionals.length === 1 ? (messageArg(positionals[0]) ?? '') : positionals.join(' '),
      {
        agent: parseAgentName(values.agent),
        model: values.model,
      },
    );
    await ensureDaemon(ctx, daemonLauncher());
    if (values.json === true) io.json(delegatedDocument(result));
    else
      io.out(
        `task #${result.task.id} queued for ${result.task.issueRef ?? 'the PM agent'}${result.note === null ? '' : ` (${result.note})`}`,
      );
    return 0;
  });
}
