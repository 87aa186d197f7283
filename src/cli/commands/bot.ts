import { ensureDaemon } from '../../../core/daemon/daemon-control.js';
import { OperationError, UsageError, errorMessage } from '../../../core/errors.js';
import { approvePairing, approvedUsers, listPairings, revokeUser } from '../../../bot/pairing.js';
import type { BotStateRecords } from '../../../bot/store/bot-store.js';
import { openBotStore } from '../../../bot/store/open-bot-store.js';
import { Notifier } from '../../../core/notifications/notifier.js';
import { JSON_FLAG, expectPositionals, parse, subcommand } from '../args.js';
import { daemonLauncher, withHome } from '../home.js';
import type { Io } from '../io.js';
import { USAGE } from '../usage.js';

const FLUSH_MS = 1_000;

/**
 * `kugetsu bot`: the Telegram bot alone, in the foreground. The daemons it starts run without
 * their own bot, so one process polls the token.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('bot', argv, JSON_FLAG);
  const sub = subcommand(
    'bot',
    positionals[0],
    ['run', 'allow', 'users', 'revoke'] as const,
    'run',
  );
  const args = positionals.slice(1);
  const usage = USAGE['bot'] ?? '';
  if (sub !== 'run') {
    return withHome(io, async (ctx, io) => {
      const bot = await openBotStore(ctx);
      try {
        await pairingCommand(
          sub,
          args,
          values.json === true,
          ctx.config.telegramAllowedUsers,
          bot.state,
          io,
        );
      } finally {
        await bot.close();
      }
      return 0;
    });
  }

  expectPositionals('bot', args, 0, 0, usage);
  const { NO_BOT_ENV } = await import('../../daemon-main.js');
  const { prepareBot } = await import('../../../bot/run-bot.js');
  return withHome(io, async (ctx, io) => {
    const token = ctx.config.telegramBotToken;
    if (token === undefined)
      throw new OperationError('set TELEGRAM_BOT_TOKEN in config.env or the environment');
    if ((await ctx.store.locks.daemonOwner()) !== null) {
      throw new OperationError(
        'the daemon runs the bot already (TELEGRAM_BOT_TOKEN is set): stop it first, or use it',
      );
    }
    const launcher = { ...daemonLauncher(), env: { [NO_BOT_ENV]: '1' } };
    const log = (line: string): void => io.err(`${new Date().toISOString()} ${line}`);
    const store = await openBotStore(ctx);
    const bot = prepareBot({
      ctx,
      token,
      ensureDaemon: () => ensureDaemon(ctx, launcher),
      log,
      bot: store,
    });
    const notifier = new Notifier(ctx.store.events, [bot.sink], (_sink, err) =>
      log(`push failed: ${errorMessage(err)}`),
    );
    const timer = setInterval(() => void notifier.flush(), FLUSH_MS);
    const outcome = await Promise.race([
      bot.start(() => void notifier.flush()),
      new Promise<'signal'>((resolve) => {
        process.once('SIGINT', () => resolve('signal'));
        process.once('SIGTERM', () => resolve('signal'));
      }),
    ]);
    clearInterval(timer);
    await bot.stop();
    await store.close();
    if (outcome === 'unauthorized')
      throw new OperationError(
        'Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): fix it in config.env or the environment',
      );
    return 0;
  });
}

/** `bot allow CODE`, `bot revoke ID`, `bot users`: pairing, in the bot's store. */
async function pairingCommand(
  sub: 'allow' | 'revoke' | 'users',
  args: string[],
  json: boolean,
  configured: readonly number[],
  state: BotStateRecords,
  io: Io,
): Promise<void> {
  const usage = USAGE['bot'] ?? '';
  if (sub === 'allow') {
    expectPositionals('bot allow', args, 1, 1, usage);
    const user = await approvePairing(state, args[0] ?? '');
    if (json) io.json({ allowed: user });
    else io.out(`allowed Telegram user ${user.userId} (${user.name})`);
  } else if (sub === 'revoke') {
    expectPositionals('bot revoke', args, 1, 1, usage);
    const id = Number(args[0]);
    if (!Number.isInteger(id) || id <= 0)
      throw new UsageError(`invalid user id ${JSON.stringify(args[0])}`);
    if (!(await revokeUser(state, id)))
      throw new OperationError(
        `user ${id} was not approved by pairing (TELEGRAM_ALLOWED_USERS is set in config.env)`,
      );
    if (json) io.json({ revoked: id });
    else io.out(`revoked Telegram user ${id}`);
  } else {
    expectPositionals('bot users', args, 0, 0, usage);
    const users = {
      configured,
      paired: await approvedUsers(state),
      pending: await listPairings(state),
    };
    if (json) io.json(users);
    else {
      io.out(`TELEGRAM_ALLOWED_USERS: ${users.configured.join(', ') || '(none)'}`);
      io.out(`paired: ${users.paired.join(', ') || '(none)'}`);
      for (const p of users.pending)
        io.out(`pending ${p.code}: user ${p.request.userId} (${p.request.name})`);
    }
  }
}
