/**
 * The Telegram bot in `kugetsu status`, `doctor` and the bot's own `/status`: its stored
 * health record judged against who is alive, added to the core's own checks. Loads nothing of
 * grammY, so `status` stays fast.
 */
import type { HomeContext } from '../../core/home-context.js';
import { isAlive } from '../../core/process-info.js';
import { homeStatus, type DoctorCheck, type StatusCode } from '../../core/operations/setup.js';
import { openHome } from '../../core/home-context.js';
import { approvedUsers } from '../pairing.js';
import type { BotStateRecords } from '../store/bot-store.js';
import { openBotStore } from '../store/open-bot-store.js';
import { botHealthKey, readBotHealth } from './bot-health.js';
import { botHealthLine, judgeBotHealth, type BotHealthReport } from './health-report.js';

export type TelegramStatusCode = StatusCode | 'telegram_bot_down';

export interface TelegramStatus {
  status: TelegramStatusCode;
  /** The bot's health; null when no TELEGRAM_BOT_TOKEN is set (or the home does not exist). */
  telegram: BotHealthReport | null;
}

/** The bot's health as any process sees it: its stored record, checked against who is alive. */
export async function telegramHealth(
  home: Pick<HomeContext, 'store' | 'fleet'>,
  state: BotStateRecords,
  now = Date.now(),
): Promise<BotHealthReport> {
  const record = await readBotHealth(state, botHealthKey(home.fleet));
  return judgeBotHealth(record, {
    now,
    ownerAlive: record !== null && isAlive(record.owner),
    daemonPid: (await home.store.locks.daemonOwner())?.pid ?? null,
  });
}

/** A down bot is the status once nothing the core needs is missing. Pure. */
export function withTelegram(
  core: StatusCode,
  telegram: BotHealthReport | null,
): TelegramStatusCode {
  return core === 'ok' && telegram?.health === 'down' ? 'telegram_bot_down' : core;
}

/** What `kugetsu status` says. */
export async function statusWithTelegram(env: NodeJS.ProcessEnv): Promise<TelegramStatus> {
  const { status } = await homeStatus(env);
  if (status === 'kugetsu_not_initialized') return { status, telegram: null };
  const home = await openHome(env);
  try {
    if (home.config.telegramBotToken === undefined) return { status, telegram: null };
    const bot = await openBotStore(home);
    try {
      const telegram = await telegramHealth(home, bot.state);
      return { status: withTelegram(status, telegram), telegram };
    } finally {
      await bot.close();
    }
  } finally {
    home.close();
  }
}

/** `doctor`'s `telegram` row, when a bot token is set. */
export async function telegramChecks(home: HomeContext): Promise<DoctorCheck[]> {
  if (home.config.telegramBotToken === undefined) return [];
  const bot = await openBotStore(home);
  try {
    const allowed =
      home.config.telegramAllowedUsers.length + (await approvedUsers(bot.state)).length;
    const users =
      allowed > 0
        ? `${allowed} allowed user(s), ${home.config.telegramNotifyChats.length} notify chat(s)`
        : 'TELEGRAM_ALLOWED_USERS is empty: the bot refuses everyone; send it /start and run `kugetsu bot allow CODE`';
    const health = await telegramHealth(home, bot.state);
    const down = health.health === 'down';
    const detail = down
      ? `bot ${botHealthLine(health)}; ${users}`
      : `${users}; bot ${botHealthLine(health)}`;
    return [{ name: 'telegram', status: down ? 'fail' : allowed > 0 ? 'ok' : 'warn', detail }];
  } finally {
    await bot.close();
  }
}
