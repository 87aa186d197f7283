/** The Telegram bot. */
import * as t from '../value-types.js';
import type { Setting } from './setting.js';

export const TELEGRAM_SETTINGS = [
  {
    key: 'TELEGRAM_BOT_TOKEN',
    field: 'telegramBotToken',
    type: t.matching(
      /^[0-9]{1,20}:[A-Za-z0-9_-]{1,200}$/,
      'a bot token of the form 123456:ABC-def',
    ),
    secret: true,
    doc: 'Token from @BotFather; when set, the daemon runs the Telegram bot (see docs/telegram.md). Never passed to agents.',
  },
  {
    key: 'TELEGRAM_ALLOWED_USERS',
    field: 'telegramAllowedUsers',
    type: t.idList({ signed: false }),
    default: '',
    expected: 'comma-separated positive user ids',
    doc: 'Comma-separated Telegram user ids allowed to use the bot (empty: nobody).',
  },
  {
    key: 'TELEGRAM_NOTIFY_CHATS',
    field: 'telegramNotifyChats',
    type: t.idList({ signed: true }),
    default: '',
    expected: 'comma-separated chat ids',
    doc: 'Comma-separated Telegram chat ids that receive every event (group ids are negative).',
  },
  {
    key: 'TELEGRAM_API_ROOT',
    field: 'telegramApiRoot',
    type: t.httpUrl(),
    default: 'https://api.telegram.org',
    doc: 'Root of the Telegram Bot API (a self-hosted Bot API server, or a test double).',
  },
  {
    key: 'TELEGRAM_WEBHOOK_URL',
    field: 'telegramWebhookUrl',
    type: t.httpsUrl(),
    doc: 'Public https URL that reaches TELEGRAM_WEBHOOK_LISTEN (e.g. through a reverse proxy); set it for webhook mode instead of long polling.',
  },
  {
    key: 'TELEGRAM_WEBHOOK_LISTEN',
    field: 'telegramWebhookListen',
    type: t.hostPort(),
    default: '127.0.0.1:8443',
    doc: 'host:port the webhook server listens on, in webhook mode.',
  },
  {
    key: 'TELEGRAM_WEBHOOK_SECRET',
    field: 'telegramWebhookSecret',
    type: t.matching(/^[A-Za-z0-9_-]{1,256}$/, '1-256 characters of A-Z, a-z, 0-9, _ and -'),
    secret: true,
    doc: 'Secret Telegram sends with every webhook call (default: a new random one at each start).',
  },
  {
    key: 'TELEGRAM_PROGRESS_SECONDS',
    field: 'telegramProgressMs',
    type: t.seconds(),
    default: '5',
    doc: 'How often the status message of a running task is edited with its progress.',
  },
] as const satisfies readonly Setting[];
