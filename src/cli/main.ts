#!/usr/bin/env node
/**
 * The `kugetsu` entry point: find the command, lazy-load its module (so `kugetsu list` does
 * not pay for the daemon's imports), and map errors to exit codes in one place.
 */
import { OperationError, UsageError, quote } from '../../core/errors.js';
import { processIo, type Io } from './io.js';
import { SUMMARY, USAGE } from './usage.js';

export type CommandRun = (argv: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, () => Promise<{ run: CommandRun }>> = {
  init: () => import('./commands/init.js'),
  status: () => import('./commands/status.js'),
  doctor: () => import('./commands/doctor.js'),
  start: () => import('./commands/start.js'),
  continue: () => import('./commands/continue.js'),
  resume: () => import('./commands/resume.js'),
  stop: () => import('./commands/stop.js'),
  list: () => import('./commands/list.js'),
  prune: () => import('./commands/prune.js'),
  destroy: () => import('./commands/destroy.js'),
  merge: () => import('./commands/merge.js'),
  delegate: () => import('./commands/delegate.js'),
  queue: () => import('./commands/queue.js'),
  daemon: () => import('./commands/daemon.js'),
  'queue-daemon': () => import('./commands/daemon.js'),
  notify: () => import('./commands/notify.js'),
  env: () => import('./commands/env.js'),
  server: () => import('./commands/server.js'),
  intake: () => import('./commands/intake.js'),
  logs: () => import('./commands/logs.js'),
  bot: () => import('./commands/bot.js'),
  approvals: () => import('./commands/approvals.js'),
  ask: () => import('./commands/ask.js'),
  approve: () => import('./commands/approve.js'),
  deny: () => import('./commands/deny.js'),
  mcp: () => import('./commands/mcp.js'),
  api: () => import('./commands/api.js'),
  serve: () => import('./commands/serve.js'),
  demo: () => import('./commands/demo.js'),
  workers: () => import('./commands/workers.js'),
  session: () => import('./commands/session.js'),
};

function help(io: Io, command: string | undefined): number {
  if (command === undefined) {
    io.out(SUMMARY);
    return 0;
  }
  const usage = USAGE[command === 'queue-daemon' ? 'daemon' : command];
  if (usage === undefined)
    throw new UsageError(`unknown command ${quote(command)}: see \`kugetsu help\``);
  io.out(`Usage: kugetsu ${usage}`);
  return 0;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      return help(io, command === 'help' ? rest[0] : undefined);
    }
    if (command === '--version' || command === '-V') {
      const { version } = (await import('./version.js')).packageInfo();
      io.out(version);
      return 0;
    }
    const load = COMMANDS[command];
    if (load === undefined)
      throw new UsageError(`unknown command ${quote(command)}: see \`kugetsu help\``);
    if (rest.includes('--help') || rest.includes('-h')) return help(io, command);
    return await (await load()).run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof OperationError) {
      io.err(`kugetsu: ${err.message}`);
      return err.exitCode;
    }
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.err(`kugetsu: internal error (a bug — please report it with this output):\n${detail}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
