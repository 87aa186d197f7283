/**
 * `kugetsu daemon run`: the daemon in the foreground. `daemon start` launches this detached
 * with its output appended to logs/daemon.log. Shutdown is registered once and idempotent.
 */
import { Daemon } from '../core/daemon/daemon.js';
import { errorMessage } from '../core/errors.js';
import { openHome } from '../core/home-context.js';

export async function runDaemon(): Promise<number> {
  const ctx = openHome(process.env);
  const scrubber = ctx.scrubber();
  const log = (line: string): void =>
    void process.stdout.write(`${new Date().toISOString()} ${scrubber.scrub(line)}\n`);
  const daemon = new Daemon(ctx, { log });
  try {
    await daemon.start();
  } catch (err) {
    log(`daemon failed to start: ${errorMessage(err)}`);
    ctx.close();
    throw err;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log(`received ${signal}`);
      void daemon.stop().then(resolve, (err: unknown) => {
        log(`shutdown failed: ${errorMessage(err)}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGHUP', () => shutdown('SIGHUP'));
  });
  ctx.close();
  return 0;
}
