#!/usr/bin/env node
/**
 * The ES module CLI: every command, each module loaded only when its command runs (so
 * `kugetsu list` does not pay for the daemon's imports). The shipped bin is bin.ts bundled,
 * which runs `list` itself and hands every other command line to this file.
 */
import { dispatch, type CommandTable } from './dispatch.js';
import { processIo } from './io.js';

const COMMANDS: CommandTable = {
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

process.exitCode = await dispatch(process.argv.slice(2), COMMANDS, processIo);
