/** Binds the bot to long polling and hands out its notification sink. */
import { GrammyError } from 'grammy';
import { errorMessage } from '../core/errors.js';
import type { NotificationSink } from '../core/notifications/notification-sink.js';
import { tailLines } from '../core/transcripts.js';
import { COMMANDS, createBot, type BotOptions } from './create-bot.js';
import { ProgressUpdater } from './progress.js';
import { telegramSink } from './telegram-sink.js';

export interface RunningBot {
  sink: NotificationSink;
  /** Starts polling; resolves once Telegram has answered the set-up calls. */
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
    errorTail: (taskId) => {
      const run = home.store.listRuns(taskId).at(-1);
      return run === undefined ? [] : tailLines(run.transcript, ERROR_TAIL_LINES, home.scrubber());
    },
  });

  const progress = new ProgressUpdater(bot.api, home, log, home.config.telegramProgressMs);

  return {
    sink,
    async start() {
      // bot.start() removes any webhook itself: long polling is the default.
      await bot.api.setMyCommands([...COMMANDS]);
      await bot.init();
      progress.start();
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
    },
  };
}
