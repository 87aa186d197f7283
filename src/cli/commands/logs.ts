import { followTask } from '../../../core/follow-task.js';
import {
  getTask,
  parseTaskId,
  resolveTaskId,
  transcriptLines,
} from '../../../core/operations/tasks.js';
import { formatUsage } from '../../../core/usage.js';
import { taskLogsDocument } from '../../json-documents.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { tokensCell } from '../format.js';
import { withHome } from '../home.js';
import { ago, table, type Io } from '../io.js';
import { USAGE } from '../usage.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('logs', argv, {
    ...JSON_FLAG,
    follow: { type: 'boolean', short: 'f' },
    lines: { type: 'string', short: 'n' },
  });
  expectPositionals('logs', positionals, 0, 1, USAGE['logs'] ?? '');
  const count = values.lines === undefined ? undefined : parseTaskId(values.lines);
  const json = values.json === true;
  return withHome(io, async (ctx, io) => {
    const scrubber = ctx.scrubber();
    if (positionals[0] === undefined) {
      const runs = await ctx.store.runs.latest(count ?? 20);
      if (json) io.json({ runs });
      else
        io.out(
          runs.length === 0
            ? 'no runs yet'
            : table([
                ['TASK', 'TRY', 'REF', 'OUTCOME', 'STARTED', 'TOKENS', 'TRANSCRIPT'],
                ...runs.map((r) => [
                  `#${r.taskId}`,
                  String(r.attempt),
                  r.issueRef ?? '(PM agent)',
                  r.outcome ?? 'running',
                  ago(r.startedAt),
                  tokensCell(r.usage),
                  r.transcript,
                ]),
              ]),
        );
      return 0;
    }
    const taskId = await resolveTaskId(ctx, positionals[0]);
    if (values.follow === true && !json) {
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      const final = await followTask(
        ctx,
        taskId,
        { text: (t) => io.write(t), waiting: (r) => io.err(`… ${r}`) },
        abort.signal,
      );
      if (final !== null && !abort.signal.aborted)
        io.out(`[kugetsu] task #${final.id} ${final.state}`);
      return 0;
    }
    const task = await getTask(ctx, taskId);
    if (json) {
      io.json(taskLogsDocument(task, await ctx.store.runs.list(taskId), scrubber));
      return 0;
    }
    const all = await transcriptLines(ctx, taskId);
    if (all.length === 0)
      io.out(
        `task #${taskId} has no transcript yet (${task.state}${task.waitReason === null ? '' : `: ${task.waitReason}`})`,
      );
    for (const line of count === undefined ? all : all.slice(-count)) io.out(line);
    if (task.usage !== null) io.out(`[kugetsu] task #${task.id} used ${formatUsage(task.usage)}`);
    return 0;
  });
}
