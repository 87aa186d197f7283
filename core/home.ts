import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Every path kugetsu uses under one KUGETSU_HOME (DESIGN.md §1). */
export interface HomePaths {
  root: string;
  db: string;
  configEnv: string;
  envDir: string;
  reposDir: string;
  worktreesDir: string;
  logsDir: string;
  transcriptsDir: string;
  daemonLog: string;
  daemonPid: string;
  daemonSocket: string;
  pmDir: string;
  /** Files staged for tasks until the runner copies them into the task's workspace. */
  attachmentsDir: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['KUGETSU_HOME'];
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.kugetsu'));
}

export function homePaths(root: string): HomePaths {
  const logsDir = join(root, 'logs');
  return {
    root,
    db: join(root, 'kugetsu.db'),
    configEnv: join(root, 'config.env'),
    envDir: join(root, 'env'),
    reposDir: join(root, 'repos'),
    worktreesDir: join(root, 'worktrees'),
    logsDir,
    transcriptsDir: join(logsDir, 'tasks'),
    daemonLog: join(logsDir, 'daemon.log'),
    daemonPid: join(root, 'daemon.pid'),
    daemonSocket: socketPath(root),
    pmDir: join(root, 'pm'),
    attachmentsDir: join(root, 'attachments'),
  };
}

// Unix socket paths are limited to ~107 bytes; a deep KUGETSU_HOME falls back to a
// per-home name in the temp dir so the wake-up channel still works.
function socketPath(root: string): string {
  const inHome = join(root, 'daemon.sock');
  if (Buffer.byteLength(inHome) < 100) return inHome;
  // Loaded only here: every command resolves its home's paths, and node:crypto is costly to load.
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof Crypto;
  const digest = createHash('sha256').update(root).digest('hex').slice(0, 16);
  return join(tmpdir(), `kugetsu-${digest}.sock`);
}
