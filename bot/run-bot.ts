/**
 * Binds the bot to Telegram — long polling by default, a webhook server when
 * TELEGRAM_WEBHOOK_URL is set — under a supervisor that restarts it, records its health in the
 * store for `status` and `doctor`, and hands out its notification sink.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { webhookCallback } from 'grammy';
import type { NotificationSink } from '../core/notifications/notification-sink.js';
import { tailLines } from '../core/transcripts.js';
import { superviseBot, type BotAttempt, type BotOutcome } from './bot-supervisor.js';
import { COMMANDS, createBot, type BotOptions } from './create-bot.js';
import { decorate } from './decorations.js';
import { grammySignal } from './grammy-signal.js';
import { botHealthKey } from './health/bot-health.js';
import { HealthRecorder } from './health/health-recorder.js';
import type { BotStore } from './store/bot-store.js';
import { lifecycleObserver } from './lifecycle-observer.js';
import { ProgressUpdater } from './progress.js';
import { telegramSink } from './telegram-sink.js';
import { topicRouterFor } from './topic-router.js';

export interface RunningBot {
  sink: NotificationSink;
  /**
   * Starts the bot and keeps it running. Resolves when it stops for good: `shutdown` after
   * `stop()`, `unauthorized` when Telegram refused the token. `onRunning` runs each time the
   * bot (again) receives updates — the moment to push what could not be pushed before.
   */
  start(onRunning?: () => void): Promise<BotOutcome>;
  stop(): Promise<void>;
}

const ERROR_TAIL_LINES = 8;
const ALLOWED_UPDATES = ['message', 'callback_query'] as const;

/**
 * `bot` is the bot's store (store/open-bot-store.ts), opened once by the caller: a worker may
 * prepare the bot each time it takes the lease, and closes the store only when it ends.
 */
export function prepareBot(options: BotOptions & { bot: BotStore }): RunningBot {
  const { ctx: home, log, bot: store } = options;
  const bot = createBot(options);
  const scrub = (text: string): string => home.scrubber().scrub(text);
  const webhookUrl = home.config.telegramWebhookUrl;
  const recorder = new HealthRecorder(
    store.state,
    botHealthKey(home.fleet),
    log,
    webhookUrl === undefined ? 'polling' : 'webhook',
  );
  const shutdown = new AbortController();
  let onRunning = (): void => undefined;
  bot.api.config.use(
    lifecycleObserver({
      recorder,
      scrub,
      log,
      stopping: shutdown.signal,
      onRecovered: () => onRunning(),
    }),
  );

  const topics = topicRouterFor(bot.api, home, store.topics, log);
  const sink = telegramSink({
    api: bot.api,
    store: home.store,
    bot: store,
    topics,
    chats: home.config.telegramNotifyChats,
    stallExtendMs: home.config.stallExtendMs,
    log,
    errorTail: async (taskId) => {
      const run = (await home.store.runs.list(taskId)).at(-1);
      return run === undefined ? [] : tailLines(run.transcript, ERROR_TAIL_LINES, home.scrubber());
    },
  });

  const progress = new ProgressUpdater(
    bot.api,
    home,
    store.deliveries,
    log,
    home.config.telegramProgressMs,
  );

  const polling: BotAttempt = async (signal, running) => {
    let halting: Promise<void> = Promise.resolve();
    const halt = (): void => {
      halting = bot.stop().catch(() => undefined);
    };
    signal.addEventListener('abort', halt, { once: true });
    try {
      await bot.init(grammySignal(signal));
      // bot.start() marks itself running synchronously, so no abort can slip in between.
      if (signal.aborted) return;
      // It removes any webhook itself, and resolves only when polling ends.
      await bot.start({
        allowed_updates: ALLOWED_UPDATES,
        onStart: (me) => {
          log(`telegram bot @${me.username} polling`);
          running(me.username);
        },
      });
    } finally {
      signal.removeEventListener('abort', halt);
      await halting;
    }
  };

  // Built only for a webhook: grammY refuses to poll a bot it has handed to one.
  const webhook = (url: string): BotAttempt => {
    // Telegram sends this secret with every call; anything without it is not Telegram.
    const secret = home.config.telegramWebhookSecret ?? randomBytes(24).toString('hex');
    const handle = webhookCallback(bot, 'http', { secretToken: secret });
    return async (signal, running) => {
      await bot.init(grammySignal(signal));
      const { host, port } = home.config.telegramWebhookListen;
      const server = createServer((req, res) => {
        // Telegram calls only when there is an update: an authentic call is all we can know.
        if (req.headers['x-telegram-bot-api-secret-token'] === secret)
          recorder.record({ kind: 'ok' });
        void handle(req, res).catch(() => res.end());
      });
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => resolve());
        });
        await bot.api.setWebhook(
          url,
          { secret_token: secret, allowed_updates: ALLOWED_UPDATES },
          grammySignal(signal),
        );
        log(
          `telegram bot @${bot.botInfo.username} on a webhook at ${url} (listening on ${host}:${port})`,
        );
        running(bot.botInfo.username);
        await new Promise<void>((resolve, reject) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => resolve(), { once: true });
          server.once('error', reject);
        });
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    };
  };

  let supervision: Promise<BotOutcome> | null = null;
  return {
    sink,
    start(whenRunning) {
      if (supervision !== null) return supervision;
      if (whenRunning !== undefined) onRunning = whenRunning;
      progress.start();
      topics.start(home.config.telegramProgressMs);
      decorate(
        [
          {
            name: 'setMyCommands',
            apply: (signal) =>
              bot.api.setMyCommands([...COMMANDS], undefined, grammySignal(signal)),
          },
        ],
        { scrub, log, signal: shutdown.signal },
      );
      supervision = superviseBot(webhookUrl === undefined ? polling : webhook(webhookUrl), {
        recorder,
        scrub,
        log,
        signal: shutdown.signal,
        onRunning: () => onRunning(),
      }).then((outcome) => {
        // Gone for good: its progress edits would only fail, and be logged every few seconds.
        progress.stop();
        topics.stop();
        return outcome;
      });
      return supervision;
    },
    async stop() {
      shutdown.abort();
      progress.stop();
      topics.stop();
      await supervision;
      // A bot that never started must not overwrite the row of the one that runs.
      if (recorder.started) recorder.record({ kind: 'stopped' });
      // The store stays open (its opener closes it): the daemon's notifier may push through the
      // sink while it winds down.
      await recorder.flushed();
    },
  };
}
