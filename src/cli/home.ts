import { fileURLToPath } from 'node:url';
import type { DaemonLauncher } from '../../core/daemon/daemon-control.js';
import { openHome, type HomeContext } from '../../core/home-context.js';
import { scrubbingIo, type Io } from './io.js';

/**
 * Opens the home for one command and always closes it. The command writes through an Io that
 * scrubs every known secret, so no output path can leak one.
 */
export async function withHome<T>(
  io: Io,
  fn: (ctx: HomeContext, io: Io) => Promise<T> | T,
): Promise<T> {
  const ctx = await openHome(process.env);
  try {
    return await fn(ctx, scrubbingIo(io, ctx.scrubber()));
  } finally {
    ctx.close();
  }
}

/**
 * How to start this very CLI as `kugetsu daemon run`. A small young generation and V8's
 * optimize-for-size mode keep the long-lived daemon's resident memory flat after bursts of
 * tasks (V8 otherwise keeps grown semi-spaces and old-space headroom: +22 MB after 100 no-op
 * tasks, +4 MB with both); the daemon waits on git and agents, so the slower JavaScript costs
 * nothing noticeable (docs/benchmarks.md). Not --lite-mode: it turns WebAssembly off, and
 * Node's fetch parses HTTP with it.
 */
export function daemonLauncher(): DaemonLauncher {
  return {
    command: process.execPath,
    args: [
      '--max-semi-space-size=1',
      '--optimize-for-size',
      fileURLToPath(new URL('./main.js', import.meta.url)),
      'daemon',
      'run',
    ],
  };
}
