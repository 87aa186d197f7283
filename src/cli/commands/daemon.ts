import { ensureDaemon, stopDaemon } from '../../../core/daemon/daemon-control.js';
import { tailLines } from '../../../core/transcripts.js';
import { JSON_FLAG, expectPositionals, parse, subcommand } from '../args.js';
import { daemonLauncher, withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';
import { followFile } from './follow-file.js';

const SUBCOMMANDS = ['start', 'stop', 'restart', 'status', 'logs', 'run'] as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('daemon', argv, {
    ...JSON_FLAG,
    follow: { type: 'boolean', short: 'f' },
    lines: { type: 'string', short: 'n' },
  });
  const sub = subcommand('daemon', positionals[0], SUBCOMMANDS);
  expectPositionals(`daemon ${sub}`, positionals.slice(1), 0, 0, USAGE['daemon'] ?? '');
  const json = values.json === true;
  if (sub === 'run') return (await import('../../daemon-main.js')).runDaemon();
  return withHome(io, async (ctx, io) => {
    switch (sub) {
      case 'start':
      case 'restart': {
        const stopped = sub === 'restart' ? await stopDaemon(ctx) : null;
        const { pid, started } = await ensureDaemon(ctx, daemonLauncher());
        if (json) io.json({ pid, started, restarted: stopped !== null });
        else
          io.out(started ? `daemon started (pid ${pid})` : `daemon already running (pid ${pid})`);
        return 0;
      }
      case 'stop': {
        const stopped = await stopDaemon(ctx);
        if (json) io.json({ stopped: stopped?.pid ?? null });
        else
          io.out(
            stopped === null ? 'no daemon was running' : `daemon stopped (pid ${stopped.pid})`,
          );
        return 0;
      }
      case 'status': {
        const owner = await ctx.store.locks.daemonOwner();
        const stats = await ctx.store.tasks.stats();
        if (json) io.json({ ...stats, daemonRunning: owner !== null, pid: owner?.pid ?? null });
        else
          io.out(
            owner === null
              ? 'daemon not running'
              : `daemon running (pid ${owner.pid}): ${stats.slotsHeld}/${ctx.config.maxConcurrentAgents} agents, ${stats.pending} pending`,
          );
        return owner === null ? 1 : 0;
      }
      case 'logs': {
        const lines = tailLines(ctx.paths.daemonLog, Number(values.lines ?? 50), ctx.scrubber());
        if (json) {
          io.json({ lines });
          return 0;
        }
        for (const line of lines) io.out(line);
        if (values.follow === true) await followFile(ctx.paths.daemonLog, (text) => io.write(text));
        return 0;
      }
    }
  });
}
