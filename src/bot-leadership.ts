/**
 * One bot for a whole fleet: the daemon that holds the `bot` lease runs it and delivers its
 * pushes; every other one stands aside, its Telegram sink leaving the shared cursor alone. When
 * the leader falls silent past its lease, another takes the lease and the bot with it, and goes
 * on from the cursor the last leader left.
 */
import { LeaseHolder } from '../core/daemon/lease-holder.js';
import type { HomeContext } from '../core/home-context.js';
import type { NotificationSink } from '../core/notifications/notification-sink.js';
import type { FleetMembership } from '../core/store/open-store.js';
import type { RunningBot } from '../bot/run-bot.js';
import { TELEGRAM_SINK } from '../bot/telegram-sink.js';

export const BOT_LEASE = 'bot';

export interface LeaderBot {
  sink: NotificationSink;
  start(onRunning: () => void): void;
  stop(): Promise<void>;
}

export function leaderBot(
  ctx: HomeContext,
  fleet: FleetMembership,
  prepare: () => RunningBot,
  log: (line: string) => void,
): LeaderBot {
  let current: RunningBot | null = null;
  let onRunning = (): void => undefined;
  const lease = new LeaseHolder(ctx.store.locks, BOT_LEASE, fleet.worker, fleet.leaseMs, {
    gained: () => {
      log(`bot leadership: worker ${fleet.worker} runs the bot`);
      current = prepare();
      void current.start(onRunning);
    },
    lost: () => {
      log(`bot leadership lost: worker ${fleet.worker} stops its bot`);
      const was = current;
      current = null;
      void was?.stop();
    },
    log,
  });
  return {
    sink: {
      name: TELEGRAM_SINK,
      deliver: (event) =>
        current === null
          ? Promise.reject(new Error('another worker runs the bot'))
          : current.sink.deliver(event),
      standsAside: () => current === null,
    },
    start: (running) => {
      onRunning = running;
      lease.start();
    },
    stop: async () => {
      await lease.stop();
      const was = current;
      current = null;
      await was?.stop();
    },
  };
}
