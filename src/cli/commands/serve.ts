/**
 * `kugetsu serve`: the HTTP API alone, in the foreground (the daemon serves it too when
 * KUGETSU_HTTP_LISTEN is set). Work it queues is run by the daemon, started on demand.
 */
import { INVALID, hostPort } from '../../../core/config/value-types.js';
import { ensureDaemon } from '../../../core/daemon/daemon-control.js';
import { UsageError, errorMessage, quote } from '../../../core/errors.js';
import { openHome } from '../../../core/home-context.js';
import { startApiServer } from '../../api/server.js';
import { expectPositionals, parse } from '../args.js';
import { daemonLauncher } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

const DEFAULT_LISTEN = { host: '127.0.0.1', port: 7420 };

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('serve', argv, { listen: { type: 'string' } });
  expectPositionals('serve', positionals, 0, 0, USAGE['serve'] ?? '');
  const asked = values.listen === undefined ? null : hostPort().parse(values.listen);
  if (asked === INVALID)
    throw new UsageError(
      `serve: invalid --listen ${quote(values.listen ?? '')}: expected host:port`,
    );
  const ctx = await openHome(process.env);
  const scrubber = ctx.scrubber();
  const log = (line: string): void => io.err(`${new Date().toISOString()} ${scrubber.scrub(line)}`);
  const listen = asked ?? ctx.config.httpListen ?? DEFAULT_LISTEN;
  try {
    const server = await startApiServer(ctx, listen, {
      ensureDaemon: () => ensureDaemon(ctx, daemonLauncher()),
      log,
    }).catch((err: unknown) => {
      throw new UsageError(
        `serve: cannot listen on ${listen.host}:${listen.port}: ${errorMessage(err)}`,
      );
    });
    io.out(`serving the kugetsu API on http://${listen.host}:${server.port}/api/v1`);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, resolve);
    });
    await server.close();
    return 0;
  } finally {
    ctx.close();
  }
}
