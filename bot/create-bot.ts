/**
 * The kugetsu Telegram bot, built but not started (the caller binds it to polling). Handlers
 * never run agents: they validate, write through core operations, and answer at once.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { conversations, createConversation } from '@grammyjs/conversations';
import { Bot, InputFile } from 'grammy';
import { OperationError, UsageError, errorMessage } from '../core/errors.js';
import type { HomeContext } from '../core/home-context.js';
import { approvedUsers, requestPairing } from './pairing.js';
import { homeStatus } from '../core/operations/setup.js';
import { botHealthLine } from './health/health-report.js';
import { telegramHealth, withTelegram } from './health/telegram-status.js';
import type { BotStore } from './store/bot-store.js';
import { parseAgentName } from '../core/agents/registry.js';
import {
  destroySession,
  knownRepos,
  listSessions,
  pruneSessions,
} from '../core/operations/sessions.js';
import {
  askPm,
  continueTask,
  delegate,
  resolveTaskId,
  stopSession,
  transcriptLines,
} from '../core/operations/tasks.js';
import { resolveTarget } from '../core/targets.js';
import { parseTaskFlags } from './task-flags.js';
import { decodeButton, encodeButton } from './callback-data.js';
import { escapeHtml, preBlocks } from './format.js';
import { LIFECYCLE_METHODS } from './lifecycle-observer.js';
import { plainTextFallback } from './plain-text-fallback.js';
import { keyboard } from './keyboard.js';
import { storedConversations } from './conversation-storage.js';
import { chatFeatures } from './chat-features.js';
import { PM_TARGET, promptKey, replyTarget } from './reply-target.js';
import { approvalsFeature } from './approvals-feature.js';
import type { BotContext } from './bot-context.js';
import { displayName } from './user-name.js';

export type { BotContext } from './bot-context.js';

export interface BotOptions {
  ctx: HomeContext;
  token: string;
  /** Starts a daemon if none runs (a standalone `kugetsu bot` needs one to run tasks). */
  ensureDaemon: () => Promise<unknown>;
  log: (line: string) => void;
}

export const COMMANDS = [
  {
    command: 'delegate',
    description: 'Queue work: /delegate [--agent NAME] [--model M] fix the login bug in me/app#14',
  },
  { command: 'queue', description: 'Pending and running tasks' },
  { command: 'list', description: 'Sessions in use or interrupted (/list all for every one)' },
  { command: 'status', description: 'kugetsu and daemon status' },
  { command: 'notify', description: 'Unread notifications' },
  { command: 'continue', description: 'Follow up: /continue REF what to do next' },
  { command: 'stop', description: 'Stop a running agent: /stop REF' },
  { command: 'logs', description: 'Last transcript lines: /logs REF|TASK [full]' },
  { command: 'destroy', description: 'Remove a session and its worktree: /destroy REF' },
  { command: 'prune', description: 'Remove sessions whose work is safe' },
  { command: 'pending', description: 'Requests waiting for your answer' },
  { command: 'help', description: 'What this bot can do' },
] as const;

const REFUSAL = 'This is a private kugetsu bot.';
const LAST_UPDATE = 'last_update_id';
const LOG_LINES = 40;
const MAX_REPO_BUTTONS = 8;

export function createBot(options: BotOptions & { bot: BotStore }): Bot<BotContext> {
  const { ctx: home, log, bot: store } = options;
  const configured = new Set(home.config.telegramAllowedUsers);
  const isAllowed = async (user: number): Promise<boolean> =>
    configured.has(user) || (await approvedUsers(store.state)).includes(user);
  const bot = new Bot<BotContext>(options.token, {
    client: { apiRoot: home.config.telegramApiRoot },
  });

  // Flood control: wait out 429 retry_after and retry (never a hand-written loop). Not the
  // calls that start and poll the bot: grammY retries those itself (getUpdates every 3 s), the
  // supervisor the webhook's; autoRetry's doubling to an hour would keep the bot deaf long after
  // Telegram is back, and hide each failure from the bot's health record.
  const retry = autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 120 });
  bot.api.config.use((prev, method, payload, signal) =>
    LIFECYCLE_METHODS.has(method)
      ? prev(method, payload, signal)
      : retry(prev, method, payload, signal),
  );
  bot.api.config.use(plainTextFallback);
  // Every outgoing text passes the scrubber, whatever handler produced it.
  bot.api.config.use((prev, method, payload, signal) =>
    prev(method, scrubPayload(payload, home), signal),
  );

  // Telegram redelivers updates whose offset was not confirmed before a restart; the last
  // handled update id lives in the store so a command never runs twice.
  bot.use(async (ctx, next) => {
    const last = Number((await store.state.get(LAST_UPDATE)) ?? '0');
    if (ctx.update.update_id <= last) return;
    await store.state.set(LAST_UPDATE, String(ctx.update.update_id));
    await next();
  });

  // Only allowed users get answers; anyone else gets one short refusal and learns nothing.
  bot.use(async (ctx, next) => {
    const user = ctx.from?.id;
    if (user !== undefined && (await isAllowed(user))) return next();
    if (ctx.callbackQuery !== undefined) {
      await ctx.answerCallbackQuery({ text: REFUSAL });
      return;
    }
    if (ctx.message === undefined || ctx.chat?.type !== 'private' || user === undefined) return;
    // A stranger's /start may ask for access: a one-time code the owner approves on the server.
    const code =
      ctx.message.text?.startsWith('/start') === true
        ? await requestPairing(store.state, user, displayName(ctx))
        : null;
    await ctx.reply(
      code === null
        ? REFUSAL
        : `${REFUSAL} If you own it, approve this chat on the server with:\n<code>kugetsu bot allow ${code}</code>\n(valid for an hour)`,
      code === null ? {} : { parse_mode: 'HTML' },
    );
  });

  bot.use(conversations({ storage: storedConversations(store.state) }));
  bot.use(
    createConversation<BotContext, BotContext>(async (conversation, ctx) => {
      // Without a default repository, offer the ones kugetsu knows as buttons.
      const repos = await conversation.external(() =>
        home.config.defaultRepo === undefined ? knownRepos(home).slice(0, MAX_REPO_BUTTONS) : [],
      );
      if (repos.length === 0) {
        await ctx.reply(
          'What should the agent do? Name an issue (e.g. me/app#14) or describe the work.',
        );
        const answer = await conversation.waitFor('message:text');
        const text = answer.message.text;
        await answer.reply(await conversation.external(() => queueDelegation(text)), {
          parse_mode: 'HTML',
        });
        return;
      }
      await ctx.reply('Which repository?', {
        reply_markup: keyboard(repos.map((repo, i) => [{ text: repo, data: `repo:${i}` }])),
      });
      const pick = await conversation.waitForCallbackQuery(/^repo:\d+$/, {
        otherwise: (other) => other.reply('Tap one of the repositories above.'),
      });
      const repo = repos[Number(pick.callbackQuery.data.slice('repo:'.length))] ?? repos[0] ?? '';
      await pick.answerCallbackQuery();
      await pick.editMessageReplyMarkup({ reply_markup: undefined });
      await pick.reply(
        `What should the agent do in <code>${escapeHtml(repo)}</code>? Start with the issue number, e.g. <i>14 fix the login test</i>.`,
        {
          parse_mode: 'HTML',
        },
      );
      const answer = await conversation.waitFor('message:text');
      const match = /^#?([1-9][0-9]*)\s+([\s\S]+)$/.exec(answer.message.text.trim());
      if (match === null) {
        await answer.reply(
          'Start with the issue number, then what to do: send /delegate to try again.',
        );
        return;
      }
      const text = `${repo}#${match[1] ?? ''} ${match[2] ?? ''}`;
      await answer.reply(await conversation.external(() => queueDelegation(text)), {
        parse_mode: 'HTML',
      });
    }, 'delegate'),
  );

  // Before the general handlers: its buttons and question replies are matched first.
  bot.use(approvalsFeature(home, store, log));

  async function queueDelegation(text: string): Promise<string> {
    const flags = parseTaskFlags(text);
    const result = await delegate(home, flags.message, {
      agent: parseAgentName(flags.agent),
      model: flags.model,
    });
    await options.ensureDaemon();
    const target =
      result.task.issueRef === null
        ? 'the PM agent'
        : `<code>${escapeHtml(result.task.issueRef)}</code>`;
    return `📥 Task #${result.task.id} queued for ${target}${result.note === null ? '' : `\n<i>${escapeHtml(result.note)}</i>`}`;
  }

  const guarded =
    <X extends BotContext>(handler: (ctx: X) => Promise<unknown>) =>
    async (ctx: X): Promise<void> => {
      try {
        await handler(ctx);
      } catch (err) {
        if (err instanceof UsageError || err instanceof OperationError) {
          await ctx.reply(`⚠️ ${escapeHtml(err.message)}`, { parse_mode: 'HTML' });
        } else {
          log(`bot handler failed: ${home.scrubber().scrub(errorMessage(err))}`);
          await ctx.reply('⚠️ internal error; see `kugetsu daemon logs`');
        }
      }
    };

  bot.command(
    ['help', 'start'],
    guarded((ctx) =>
      ctx.reply(
        [
          '<b>kugetsu</b> runs coding agents on your issues.',
          '',
          ...COMMANDS.map((c) => `/${c.command} — ${escapeHtml(c.description)}`),
          '',
          'Reply to a notification to continue its task. Plain text is a request; photos, documents and voice notes work too.',
        ].join('\n'),
        { parse_mode: 'HTML' },
      ),
    ),
  );

  bot.command(
    'delegate',
    guarded(async (ctx) => {
      const text = ctx.match.trim();
      if (text === '') {
        await ctx.conversation.enter('delegate');
        return;
      }
      await ctx.reply(await queueDelegation(text), { parse_mode: 'HTML' });
    }),
  );

  bot.command(
    'status',
    guarded(async (ctx) => {
      const stats = await home.store.tasks.stats();
      const daemon = await home.store.locks.daemonOwner();
      const core = homeStatus(home.env);
      const telegram = await telegramHealth(home, store.state);
      const status = withTelegram(core.status, telegram);
      await ctx.reply(
        [
          `status: <b>${status}</b>`,
          `daemon: ${daemon === null ? 'not running' : `running (pid ${daemon.pid})`}`,
          `agents: ${stats.slotsHeld}/${home.config.maxConcurrentAgents} · pending ${stats.pending} · done ${stats.completed} · failed ${stats.error}`,
          `telegram: ${escapeHtml(botHealthLine(telegram))}`,
        ].join('\n'),
        { parse_mode: 'HTML' },
      );
    }),
  );

  bot.command(
    'queue',
    guarded(async (ctx) => {
      const tasks = await home.store.tasks.list({ states: ['pending', 'running'] });
      const waiting = new Set((await home.store.approvals.list()).map((a) => a.taskId));
      const lines = tasks.map(
        (t) =>
          `#${t.id} <b>${t.state}</b> ${t.mode} <code>${escapeHtml(t.issueRef ?? 'PM agent')}</code>${t.state === 'pending' && t.waitReason !== null ? `\n   <i>${escapeHtml(t.waitReason)}</i>` : ''}${waiting.has(t.id) ? '\n   <i>waiting for your answer: /pending</i>' : ''}`,
      );
      await ctx.reply(lines.length === 0 ? 'The queue is empty.' : lines.join('\n'), {
        parse_mode: 'HTML',
      });
    }),
  );

  bot.command(
    'list',
    guarded(async (ctx) => {
      const all = ctx.match.trim() === 'all';
      const sessions = listSessions(home, all);
      const lines = sessions.map(
        (s) =>
          `<code>${escapeHtml(s.issueRef)}</code> <b>${s.state}</b>${s.task === null ? '' : ` · #${s.task.id} ${s.task.state}`}${
            s.pullRequest === null
              ? ''
              : ` · <a href="${escapeHtml(s.pullRequest.url)}">PR #${s.pullRequest.number}</a> ${s.pullRequest.state}`
          }`,
      );
      await ctx.reply(
        lines.length === 0
          ? all
            ? 'No sessions.'
            : 'No sessions in use or interrupted (/list all).'
          : lines.join('\n'),
        { parse_mode: 'HTML' },
      );
    }),
  );

  bot.command(
    'notify',
    guarded(async (ctx) => {
      const events = (await home.store.events.list({ unreadOnly: true })).slice(-20);
      await ctx.reply(
        events.length === 0
          ? 'No unread notifications.'
          : events.map((e) => escapeHtml(e.message)).join('\n'),
        { parse_mode: 'HTML' },
      );
    }),
  );

  bot.command(
    'continue',
    guarded(async (ctx) => {
      const [ref, ...rest] = ctx.match.trim().split(/\s+/);
      if (ref === undefined || ref === '' || rest.length === 0)
        throw new UsageError('usage: /continue REF what to do next');
      const queued = await continueTask(home, ref, rest.join(' '));
      await options.ensureDaemon();
      await ctx.reply(
        `📥 Task #${queued.task.id} queued for <code>${escapeHtml(queued.task.issueRef ?? '')}</code>`,
        { parse_mode: 'HTML' },
      );
    }),
  );

  bot.command(
    'stop',
    guarded(async (ctx) => {
      const task = await stopSession(home, ctx.match.trim());
      await options.ensureDaemon();
      await ctx.reply(`⏹ Stopping task #${task.id}.`);
    }),
  );

  bot.command(
    'logs',
    guarded(async (ctx) => {
      const [which = '', mode] = ctx.match.trim().split(/\s+/);
      await sendLogs(ctx, resolveTaskId(home, which), mode === 'full');
    }),
  );

  bot.command(
    'destroy',
    guarded(async (ctx) => {
      const target = resolveTarget(home, ctx.match.trim());
      const session = await home.store.sessions.get(target.issueRef);
      if (session === null) throw new OperationError(`session ${target.issueRef} not found`);
      const taskId = session.lastTaskId ?? 0;
      await ctx.reply(
        `Destroy <code>${escapeHtml(target.issueRef)}</code>, its worktree and branch?`,
        {
          parse_mode: 'HTML',
          reply_markup: confirmKeyboard('destroy!', taskId),
        },
      );
    }),
  );

  bot.command(
    'prune',
    guarded(async (ctx) => {
      await ctx.reply('Prune every idle session whose work is pushed and clean?', {
        reply_markup: confirmKeyboard('prune!', 0),
      });
    }),
  );

  function confirmKeyboard(action: 'destroy!' | 'prune!', taskId: number) {
    return keyboard([
      [
        { text: 'Yes, do it', data: encodeButton(action, taskId) },
        { text: 'Cancel', data: encodeButton('cancel', taskId) },
      ],
    ]);
  }

  async function sendLogs(ctx: BotContext, taskId: number, full: boolean): Promise<void> {
    const lines = transcriptLines(home, taskId, full ? undefined : LOG_LINES);
    if (lines.length === 0) {
      await ctx.reply(`Task #${taskId} has no transcript yet.`);
      return;
    }
    if (full) {
      await ctx.replyWithDocument(
        new InputFile(Buffer.from(lines.join('\n') + '\n'), `task-${taskId}.log`),
        { caption: `Transcript of task #${taskId}` },
      );
      return;
    }
    for (const block of preBlocks(lines.slice(-LOG_LINES).join('\n')))
      await ctx.reply(block, { parse_mode: 'HTML' });
  }

  bot.use(chatFeatures<BotContext>({ ...options, home, bot: store }));

  bot.on(
    'callback_query:data',
    guarded(async (ctx) => {
      const press = decodeButton(ctx.callbackQuery.data);
      if (press === null) {
        await ctx.answerCallbackQuery({ text: 'This button is no longer valid.' });
        return;
      }
      const task = press.taskId === 0 ? null : await home.store.tasks.get(press.taskId);
      const ref = task?.issueRef ?? null;
      switch (press.action) {
        case 'logs':
          await ctx.answerCallbackQuery();
          await sendLogs(ctx, press.taskId, false);
          return;
        case 'stop':
          if (ref === null) throw new OperationError('this task has no session to stop');
          await stopSession(home, ref);
          await options.ensureDaemon();
          await ctx.answerCallbackQuery({ text: 'Stopping…' });
          return;
        case 'continue': {
          const pm = task?.kind === 'pm';
          if (ref === null && !pm) throw new OperationError('this task has no session to continue');
          await ctx.answerCallbackQuery();
          const prompt = await ctx.reply(
            pm || ref === null
              ? 'What should the PM agent do next? Reply to this message.'
              : `What should the agent do next on <code>${escapeHtml(ref)}</code>? Reply to this message.`,
            {
              parse_mode: 'HTML',
              reply_markup: { force_reply: true, input_field_placeholder: 'the follow-up' },
            },
          );
          await store.state.set(promptKey(prompt.chat.id, prompt.message_id), ref ?? PM_TARGET);
          return;
        }
        case 'destroy':
        case 'prune':
          // Ask first; the confirmation replaces these buttons so they cannot be pressed twice.
          await ctx.answerCallbackQuery();
          await ctx.editMessageReplyMarkup({
            reply_markup: confirmKeyboard(
              press.action === 'destroy' ? 'destroy!' : 'prune!',
              press.taskId,
            ),
          });
          return;
        case 'cancel':
          await ctx.answerCallbackQuery({ text: 'Cancelled' });
          await ctx.editMessageReplyMarkup({ reply_markup: undefined });
          return;
        case 'destroy!': {
          if (ref === null) throw new OperationError('this task has no session to destroy');
          await ctx.answerCallbackQuery({ text: 'Destroying…' });
          await ctx.editMessageReplyMarkup({ reply_markup: undefined });
          const session = await destroySession(home, ref, false, options.ensureDaemon);
          await ctx.reply(`🗑 Destroyed <code>${escapeHtml(session.issueRef)}</code>.`, {
            parse_mode: 'HTML',
          });
          return;
        }
        case 'prune!': {
          await ctx.answerCallbackQuery({ text: 'Pruning…' });
          await ctx.editMessageReplyMarkup({ reply_markup: undefined });
          const report = await pruneSessions(home, false);
          const lines = [
            ...report.pruned.map((r) => `🗑 ${escapeHtml(r)}`),
            ...report.kept.map((k) => `kept ${escapeHtml(k.issueRef)}: ${escapeHtml(k.reason)}`),
          ];
          await ctx.reply(lines.length === 0 ? 'No sessions to prune.' : lines.join('\n'), {
            parse_mode: 'HTML',
          });
          return;
        }
      }
    }),
  );

  // A plain reply to a kugetsu notification (or to a Continue prompt) continues that session.
  bot.on(
    'message:text',
    guarded(async (ctx) => {
      const replied = ctx.message.reply_to_message;
      if (replied === undefined || replied.from?.id !== ctx.me.id) {
        await ctx.reply(
          'Send /delegate with what to do, or reply to a notification. /help lists the commands.',
        );
        return;
      }
      const ref = await replyTarget(home.store, store, ctx.chat.id, replied.message_id);
      if (ref === null)
        throw new OperationError('that message belongs to no session: use /continue REF …');
      if (ref === PM_TARGET) {
        const asked = await askPm(home, ctx.message.text);
        await options.ensureDaemon();
        await ctx.reply(`📥 Task #${asked.task.id} queued for the PM agent`);
        return;
      }
      const queued = await continueTask(home, ref, ctx.message.text);
      await options.ensureDaemon();
      await ctx.reply(`📥 Task #${queued.task.id} queued for <code>${escapeHtml(ref)}</code>`, {
        parse_mode: 'HTML',
      });
    }),
  );

  bot.catch((err) => {
    log(
      `bot update ${err.ctx.update.update_id} failed: ${home.scrubber().scrub(errorMessage(err.error))}`,
    );
  });

  return bot;
}

/** Scrubs the human-readable fields of an outgoing Bot API payload. */
function scrubPayload<P>(payload: P, home: HomeContext): P {
  if (payload === null || typeof payload !== 'object') return payload;
  const scrubber = home.scrubber();
  const copy: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  for (const key of ['text', 'caption']) {
    const value = copy[key];
    if (typeof value === 'string') copy[key] = scrubber.scrub(value);
  }
  return copy as P;
}
