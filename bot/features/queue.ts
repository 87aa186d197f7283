/** The queue and the sessions: `/status`, `/queue`, `/list`, `/notify`, `/stop`, `/destroy`, `/prune`. */
import { Composer } from 'grammy';
import { OperationError } from '../../core/errors.js';
import { homeStatus } from '../../core/operations/setup.js';
import { listSessions } from '../../core/operations/session-list.js';
import { stopSession } from '../../core/operations/tasks.js';
import { withPlaceInLine } from '../../core/scheduler/place-in-line.js';
import { resolveTarget } from '../../core/targets.js';
import type { BotContext } from '../bot-context.js';
import { botHealthLine } from '../health/health-report.js';
import { telegramHealth, withTelegram } from '../health/telegram-status.js';
import { keyboard } from '../keyboard.js';
import {
  PRUNE_QUESTION,
  confirmButtons,
  destroyQuestionHtml,
  listHtml,
  notifyHtml,
  queueHtml,
  statusHtml,
  stoppingText,
} from '../views/queue-view.js';
import type { FeatureDeps } from './feature-deps.js';

/** Unread notifications `/notify` shows at most. */
const NOTIFY_LAST = 20;

export function queueFeature(deps: FeatureDeps): Composer<BotContext> {
  const { home } = deps;
  const composer = new Composer<BotContext>();

  composer.command('status', async (ctx) => {
    const telegram = await telegramHealth(home, deps.bot.state);
    const html = statusHtml({
      status: withTelegram((await homeStatus(home.env)).status, telegram),
      daemonPid: (await home.store.locks.daemonOwner())?.pid ?? null,
      stats: await home.store.tasks.stats(),
      maxAgents: home.config.maxConcurrentAgents,
      telegram: botHealthLine(telegram),
    });
    await ctx.reply(html, { parse_mode: 'HTML' });
  });

  composer.command('queue', async (ctx) => {
    const tasks = withPlaceInLine(await home.store.tasks.list({ states: ['pending', 'running'] }));
    const waiting = new Set((await home.store.approvals.list()).map((a) => a.taskId));
    await ctx.reply(queueHtml(tasks, waiting), { parse_mode: 'HTML' });
  });

  composer.command('list', async (ctx) => {
    const all = ctx.match.trim() === 'all';
    await ctx.reply(listHtml(await listSessions(home, all), all), { parse_mode: 'HTML' });
  });

  composer.command('notify', async (ctx) => {
    const events = (await home.store.events.list({ unreadOnly: true })).slice(-NOTIFY_LAST);
    await ctx.reply(notifyHtml(events), { parse_mode: 'HTML' });
  });

  composer.command('stop', async (ctx) => {
    const task = await stopSession(home, ctx.match.trim());
    await deps.ensureDaemon();
    await ctx.reply(stoppingText(task.id));
  });

  composer.command('destroy', async (ctx) => {
    const target = await resolveTarget(home, ctx.match.trim());
    const session = await home.store.sessions.get(target.issueRef);
    if (session === null) throw new OperationError(`session ${target.issueRef} not found`);
    await ctx.reply(destroyQuestionHtml(target.issueRef), {
      parse_mode: 'HTML',
      reply_markup: keyboard(confirmButtons('destroy!', session.lastTaskId ?? 0)),
    });
  });

  composer.command('prune', (ctx) =>
    ctx.reply(PRUNE_QUESTION, { reply_markup: keyboard(confirmButtons('prune!', 0)) }),
  );
  return composer;
}
