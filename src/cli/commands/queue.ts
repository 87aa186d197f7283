import { withPlaceInLine } from '../../../core/scheduler/place-in-line.js';
import { cancelTask, parseTaskId, retryTask, startTask } from '../../../core/operations/tasks.js';
import { queueListDocument, queueStatsDocument, waitingApprovals } from '../../json-documents.js';
import { JSON_FLAG, expectPositionals, parse, subcommand } from '../args.js';
import { taskLine, tasksTable } from '../format.js';
import { withHome } from '../home.js';
import { table, type Io } from '../io.js';
import { USAGE } from '../usage.js';

const SUBCOMMANDS = ['list', 'stats', 'clear', 'enqueue', 'cancel', 'retry'] as const;

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('queue', argv, {
    ...JSON_FLAG,
    all: { type: 'boolean', short: 'a' },
  });
  const sub = subcommand('queue', positionals[0], SUBCOMMANDS, 'list');
  const args = positionals.slice(1);
  const usage = USAGE['queue'] ?? '';
  const json = values.json === true;
  return withHome(io, async (ctx, io) => {
    switch (sub) {
      case 'list': {
        expectPositionals('queue list', args, 0, 0, usage);
        const tasks = withPlaceInLine(
          await ctx.store.tasks.list(values.all === true ? {} : { states: ['pending', 'running'] }),
        );
        // A task waiting for an answer still holds its slot: say so, or the cap looks wrong.
        const waiting = waitingApprovals(await ctx.store.approvals.list());
        if (json) io.json(queueListDocument(tasks, waiting));
        else
          io.out(
            tasks.length === 0 && values.all !== true
              ? 'the queue is empty (`kugetsu queue list --all` shows finished tasks)'
              : tasksTable(tasks, waiting),
          );
        return 0;
      }
      case 'stats': {
        expectPositionals('queue stats', args, 0, 0, usage);
        const stats = queueStatsDocument(
          await ctx.store.tasks.stats(),
          ctx.config.maxConcurrentAgents,
          (await ctx.store.locks.daemonOwner())?.pid ?? null,
        );
        if (json) io.json(stats);
        else io.out(table(Object.entries(stats).map(([k, v]) => [k, String(v ?? 'not running')])));
        return 0;
      }
      case 'clear': {
        expectPositionals('queue clear', args, 0, 0, usage);
        const cancelled = values.all === true ? await ctx.store.tasks.cancelAllPending() : 0;
        const removed = await ctx.store.tasks.deleteFinished(Date.now() + 1);
        if (json) io.json({ removed, cancelled });
        else
          io.out(
            `removed ${removed} finished task(s)${values.all === true ? `, cancelled ${cancelled} pending` : ''}`,
          );
        return 0;
      }
      case 'enqueue': {
        expectPositionals('queue enqueue', args, 2, 2, usage);
        const { task, note } = await startTask(ctx, args[0] ?? '', args[1] ?? '');
        const daemon = await ctx.store.locks.daemonOwner();
        if (json) io.json({ task, note });
        else
          io.out(
            `queued ${taskLine(task)}${daemon === null ? ' (no daemon runs: `kugetsu daemon start`)' : ''}`,
          );
        return 0;
      }
      case 'cancel':
      case 'retry': {
        expectPositionals(`queue ${sub}`, args, 1, 1, usage);
        const id = parseTaskId(args[0]);
        const task = sub === 'cancel' ? await cancelTask(ctx, id) : await retryTask(ctx, id);
        if (json) io.json({ task });
        else
          io.out(
            sub === 'retry'
              ? `queued ${taskLine(task)}`
              : task.state === 'cancelled'
                ? `cancelled #${task.id}`
                : `stop requested for running task #${task.id}`,
          );
        return 0;
      }
    }
  });
}
