/** Starting and stopping the daemon process of a home from another process. */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { OperationError } from '../errors.js';
import type { HomeContext } from '../home-context.js';
import { inThisNamespace, isAlive, type ProcessIdentity } from '../process-info.js';
import { tailLines } from '../transcripts.js';

/** How to launch `daemon run` (the entry point knows its own path; core does not). */
export interface DaemonLauncher {
  command: string;
  args: string[];
  /** Added to the home's environment for the daemon process. */
  env?: Record<string, string>;
}

const START_TIMEOUT_MS = 15_000;
const POLL_MS = 20;

/** Starts the daemon unless one runs; resolves once a daemon holds the lock. */
export async function ensureDaemon(
  ctx: HomeContext,
  launcher: DaemonLauncher,
): Promise<{ pid: number; started: boolean }> {
  const running = await ctx.store.locks.daemonOwner();
  if (running !== null) return { pid: running.pid, started: false };
  mkdirSync(ctx.paths.logsDir, { recursive: true });
  const logFd = openSync(ctx.paths.daemonLog, 'a', 0o600);
  const child = spawn(launcher.command, launcher.args, {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...ctx.env, ...launcher.env },
    cwd: ctx.paths.root,
  });
  closeSync(logFd);
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    // Another process may have started one first; any live holder of the lock will do.
    const owner = await ctx.store.locks.daemonOwner();
    if (owner !== null) return { pid: owner.pid, started: owner.pid === child.pid };
    if (exited) break;
    await delay(POLL_MS);
  }
  const last = tailLines(ctx.paths.daemonLog, 1, ctx.scrubber())[0] ?? 'no output';
  throw new OperationError(`the daemon did not start: ${last} (see \`kugetsu daemon logs\`)`);
}

/** Sends SIGTERM and waits for a graceful exit; returns the stopped daemon, or null if none ran. */
export async function stopDaemon(
  ctx: HomeContext,
  timeoutMs = 60_000,
): Promise<ProcessIdentity | null> {
  const owner = await ctx.store.locks.daemonOwner();
  if (owner === null) return null;
  if (!inThisNamespace(owner)) {
    // Its pid names another process here, or none: signalling it could hit a stranger.
    throw new OperationError(
      `daemon ${owner.pid} runs in another PID namespace (${owner.ns ?? '?'}): stop it from there`,
    );
  }
  process.kill(owner.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(owner)) {
    if (Date.now() > deadline)
      throw new OperationError(`daemon ${owner.pid} did not stop within ${timeoutMs / 1000}s`);
    await delay(POLL_MS * 5);
  }
  return owner;
}
