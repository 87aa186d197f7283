import { setTimeout as delay } from 'node:timers/promises';
import { stopSession } from '../../../core/operations/tasks.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import { ensureDaemon } from '../../../core/daemon/daemon-control.js';
import { daemonLauncher, withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

const STOP_WAIT_MS = 60_000;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('stop', argv, {
    ...JSON_FLAG,
    detach: { type: 'boolean', short: 'd' },
  });
  expectPositionals('stop', positionals, 1, 1, USAGE['stop'] ?? '');
  return withHome(io, async (ctx, io) => {
    let task = await stopSession(ctx, positionals[0] ?? '');
    // Only a daemon stops agents; one that starts now stops this one during its recovery.
    await ensureDaemon(ctx, daemonLauncher());
    const deadline = Date.now() + STOP_WAIT_MS;
    while (values.detach !== true && task.state === 'running' && Date.now() < deadline) {
      await delay(100);
      task = (await ctx.store.tasks.get(task.id)) ?? task;
    }
    if (values.json === true)
      io.json({
        task,
        session: task.issueRef === null ? null : await ctx.store.sessions.get(task.issueRef),
      });
    else
      io.out(
        task.state === 'running'
          ? `stop requested for task #${task.id}`
          : `stopped task #${task.id}; the session is left (\`kugetsu resume ${task.issueRef ?? ''}\`)`,
      );
    return 0;
  });
}
