import { ensureDaemon } from '../../../core/daemon/daemon-control.js';
import { OperationError, errorMessage } from '../../../core/errors.js';
import { Notifier } from '../../../core/notifications/notifier.js';
import { expectPositionals, parse } from '../args.js';
import { daemonLauncher, withHome } from '../home.js';
import type { Io } from '../io.js';

const FLUSH_MS = 1_000;

/**
 * `kugetsu bot`: the Telegram bot alone, in the foreground. The daemons it starts run without
 * their own bot, so one process polls the token.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  const { positionals } = parse('bot', argv, {});
  expectPositionals('bot', positionals, 0, 0, 'bot');
  const { NO_BOT_ENV } = await import('../../daemon-main.js');
  const { prepareBot } = await import('../../../bot/run-bot.js');
  return withHome(io, async (ctx, io) => {
    const token = ctx.config.telegramBotToken;
    if (token === undefined)
      throw new OperationError('set TELEGRAM_BOT_TOKEN in config.env or the environment');
    if (ctx.store.daemonOwner() !== null) {
      throw new OperationError(
        'the daemon runs the bot already (TELEGRAM_BOT_TOKEN is set): stop it first, or use it',
      );
    }
    const launcher = { ...daemonLauncher(), env: { [NO_BOT_ENV]: '1' } };
    const log = (line: string): void => io.err(`${new Date().toISOString()} ${line}`);
    const bot = prepareBot({ ctx, token, ensureDaemon: () => ensureDaemon(ctx, launcher), log });
    const notifier = new Notifier(ctx.store, [bot.sink], (_sink, err) =>
      log(`push failed: ${errorMessage(err)}`),
    );
    await bot.start();
    const timer = setInterval(() => void notifier.flush(), FLUSH_MS);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    clearInterval(timer);
    await bot.stop();
    return 0;
  });
}
