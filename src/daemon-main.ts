/**
 * `kugetsu daemon run`: the daemon in the foreground. `daemon start` launches this detached
 * with its output appended to logs/daemon.log. When TELEGRAM_BOT_TOKEN is set the daemon also
 * runs the Telegram bot and pushes events to it, and with KUGETSU_HTTP_LISTEN it serves the HTTP
 * API. Shutdown is registered once and idempotent.
 */
import { fileURLToPath } from 'node:url';
import { Daemon } from '../core/daemon/daemon.js';
import { errorMessage } from '../core/errors.js';
import { openHome, type HomeContext } from '../core/home-context.js';
import type { RunningBot } from '../bot/run-bot.js';
import type { BotStore } from '../bot/store/bot-store.js';
import type { LeaderBot } from './bot-leadership.js';

/** Set by `kugetsu bot` for the daemons it starts: that process runs the bot itself. */
export const NO_BOT_ENV = 'KUGETSU_DAEMON_WITHOUT_BOT';

/**
 * The bot this daemon runs: always with a home of its own, while it leads on a fleet. Its store
 * is opened once, shared by every leader of a fleet, and closed when the daemon ends.
 */
async function botOf(
  ctx: HomeContext,
  token: string,
  log: (line: string) => void,
): Promise<{ bot: LeaderBot | RunningBot; store: BotStore }> {
  const { prepareBot } = await import('../bot/run-bot.js');
  const store = await (await import('../bot/store/open-bot-store.js')).openBotStore(ctx);
  const prepare = (): RunningBot =>
    prepareBot({ ctx, token, ensureDaemon: () => Promise.resolve(), log, bot: store });
  if (ctx.fleet === null) return { bot: prepare(), store };
  const { leaderBot } = await import('./bot-leadership.js');
  return { bot: leaderBot(ctx, ctx.fleet, prepare, log), store };
}

export async function runDaemon(): Promise<number> {
  const ctx = await openHome(process.env);
  const scrubber = ctx.scrubber();
  const log = (line: string): void =>
    void process.stdout.write(`${new Date().toISOString()} ${scrubber.scrub(line)}\n`);
  const token = process.env[NO_BOT_ENV] === '1' ? undefined : ctx.config.telegramBotToken;
  const withBot = token === undefined ? null : await botOf(ctx, token, log);
  const bot = withBot?.bot ?? null;
  const closeBotStore = (): Promise<void> => withBot?.store.close() ?? Promise.resolve();
  // The HTTP API beside the queue, when asked for; like the bot, a failure is logged and the
  // daemon runs on.
  const listen = ctx.config.httpListen;
  let api: Promise<{ close(): Promise<void> } | null> = Promise.resolve(null);
  const startApi = async (): Promise<{ close(): Promise<void> } | null> => {
    if (listen === undefined) return null;
    try {
      const server = await (
        await import('./api/server.js')
      ).startApiServer(ctx, listen, {
        ensureDaemon: () => Promise.resolve({ pid: process.pid, started: false }),
        log,
      });
      log(`http api listening on http://${listen.host}:${server.port}/api/v1`);
      return server;
    } catch (err) {
      log(`http api cannot listen on ${listen.host}:${listen.port}: ${errorMessage(err)}`);
      return null;
    }
  };
  const daemon: Daemon = new Daemon(ctx, {
    log,
    extraSinks: bot === null ? [] : [bot.sink],
    kugetsuCli: fileURLToPath(new URL('./cli/main.js', import.meta.url)),
    // The bot is supervised and never throws: a bot that cannot reach Telegram must not take
    // the queue down with it. Each time it is back, the pushes it missed go out.
    onLocked: () => {
      void bot?.start(() => daemon.kick());
      api = startApi();
    },
  });
  try {
    await daemon.start();
  } catch (err) {
    log(`daemon failed to start: ${errorMessage(err)}`);
    await (await api)?.close();
    await bot?.stop();
    await closeBotStore().catch(() => undefined);
    ctx.close();
    throw err;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log(`received ${signal}`);
      void (async () => {
        await bot?.stop().catch(() => undefined);
        await (await api)?.close();
        await daemon.stop();
      })().then(resolve, (err: unknown) => {
        log(`shutdown failed: ${errorMessage(err)}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGHUP', () => shutdown('SIGHUP'));
  });
  await closeBotStore().catch(() => undefined);
  ctx.close();
  return 0;
}
