/**
 * Binds the bot to Telegram — long polling by default, a webhook server when
 * TELEGRAM_WEBHOOK_URL is set — and hands out its notification sink.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { GrammyError, webhookCallback } from 'grammy';
import { errorMessage } from '../core/errors.js';
import type { NotificationSink } from '../core/notifications/notification-sink.js';
import { tailLines } from '../core/transcripts.js';
import { COMMANDS, createBot, type BotOptions } from './create-bot.js';
import { ProgressUpdater } from './progress.js';
import { telegramSink } from './telegram-sink.js';

export interface RunningBot {
  sink: NotificationSink;
  /** Starts polling or the webhook; resolves once Telegram has answered the set-up calls. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const ERROR_TAIL_LINES = 8;

export function prepareBot(options: BotOptions): RunningBot {
  const { ctx: home, log } = options;
  const bot = createBot(options);

  const sink = telegramSink({
    api: bot.api,
    store: home.store,
    chats: home.config.telegramNotifyChats,
    stallExtendMs: home.config.stallExtendMs,
    errorTail: (taskId) => {
      const run = home.store.listRuns(taskId).at(-1);
      return run === undefined ? [] : tailLines(run.transcript, ERROR_TAIL_LINES, home.scrubber());
    },
  });

  const progress = new ProgressUpdater(bot.api, home, log, home.config.telegramProgressMs);
  let webhookServer: Server | null = null;

  async function startWebhook(url: string): Promise<void> {
    const { host, port } = home.config.telegramWebhookListen;
    // Telegram sends this secret with every call; anything without it is not Telegram.
    const secret = home.config.telegramWebhookSecret ?? randomBytes(24).toString('hex');
    const handle = webhookCallback(bot, 'http', { secretToken: secret });
    const server = createServer((req, res) => void handle(req, res).catch(() => res.end()));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    webhookServer = server;
    await bot.api.setWebhook(url, {
      secret_token: secret,
      allowed_updates: ['message', 'callback_query'],
    });
    log(
      `telegram bot @${bot.botInfo.username} on a webhook at ${url} (listening on ${host}:${port})`,
    );
  }

  return {
    sink,
    async start() {
      await bot.api.setMyCommands([...COMMANDS]);
      await bot.init();
      progress.start();
      const webhook = home.config.telegramWebhookUrl;
      if (webhook !== undefined) {
        await startWebhook(webhook);
        return;
      }
      // bot.start() removes any webhook itself: long polling is the default.
      void bot
        .start({
          allowed_updates: ['message', 'callback_query'],
          onStart: (me) => log(`telegram bot @${me.username} polling`),
        })
        .catch((err: unknown) => {
          if (err instanceof GrammyError && err.error_code === 409) {
            log(
              'telegram bot stopped: another process polls this bot token (409 Conflict); run one kugetsu daemon or bot per token',
            );
          } else {
            log(`telegram bot stopped: ${home.scrubber().scrub(errorMessage(err))}`);
          }
        });
    },
    async stop() {
      progress.stop();
      if (bot.isRunning()) await bot.stop();
      const server = webhookServer;
      if (server !== null) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
