/**
 * Approvals from the phone: the Allow/Deny buttons of a pushed request, a reply that answers a
 * question, and `/pending`, the inbox of every open request. Answers go through the same core
 * operation as `kugetsu approve|deny`, so the first answer from anywhere wins and a late tap is
 * told who answered.
 */
import { Composer } from 'grammy';
import {
  describeResolution,
  type AnsweredBy,
  type Approval,
} from '../../core/approvals/approval.js';
import { OperationError, UsageError } from '../../core/errors.js';
import { answerErrors } from '../middleware/error-boundary.js';
import type { HomeContext } from '../../core/home-context.js';
import type { BotStore } from '../store/bot-store.js';
import { answerApproval, type ApprovalVerdict } from '../../core/operations/approvals.js';
import {
  APPROVAL_BUTTON,
  approvalRequestView,
  approvalResolvedView,
  decodeApprovalButton,
  type ApprovalPress,
} from '../views/approval-message.js';
import { editApprovalMessage } from '../approval-pushes.js';
import type { BotContext } from '../bot-context.js';
import { keyboard } from '../keyboard.js';
import { displayName } from '../user-name.js';

/** Requests `/pending` shows as messages of their own; the rest are counted. */
const PENDING_SHOWN = 10;
/** Marks a `/pending` message with the approval it shows, so a reply to it can answer. */
const PENDING_PREFIX = 'approval-message:';

export function approvalsFeature(
  home: HomeContext,
  bot: BotStore,
  log: (line: string) => void,
): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  // A late or refused tap is told on the button itself.
  const guarded = composer.errorBoundary(
    answerErrors(home, log, { alertOnButtons: true, what: 'approval handler' }),
  );

  const by = (ctx: BotContext): AnsweredBy => ({ channel: 'telegram', who: displayName(ctx) });

  /** Answers, and shows on the message answered what happened, even when another was first. */
  async function resolve(
    ctx: BotContext,
    approval: Approval,
    verdict: ApprovalVerdict,
    where: { chatId: number; messageId: number } | null,
  ): Promise<Approval> {
    const result = await answerApproval(home, approval.id, verdict, by(ctx));
    if (where !== null) {
      await editApprovalMessage(
        ctx.api,
        where.chatId,
        where.messageId,
        approvalResolvedView(result.approval, Date.now()).html,
      );
    }
    if (!result.won) throw new OperationError(`Already ${describeResolution(result.approval)}`);
    return result.approval;
  }

  guarded.callbackQuery(APPROVAL_BUTTON, async (ctx) => {
    const press = decodeApprovalButton(ctx.callbackQuery.data);
    const approval = press === null ? null : await home.store.approvals.get(press.id);
    if (press === null || approval === null) {
      await ctx.answerCallbackQuery({ text: 'This request is gone.' });
      return;
    }
    const message = ctx.callbackQuery.message;
    const where =
      message === undefined ? null : { chatId: message.chat.id, messageId: message.message_id };
    const resolved = await resolve(ctx, approval, verdictOf(press, approval), where);
    await ctx.answerCallbackQuery({ text: describeResolution(resolved).slice(0, 200) });
  });

  guarded.command('pending', async (ctx) => {
    const open = await home.store.approvals.list();
    if (open.length === 0) {
      await ctx.reply('Nothing waits for your answer.');
      return;
    }
    for (const approval of open.slice(0, PENDING_SHOWN)) {
      const view = approvalRequestView(approval, home.config.stallExtendMs, Date.now());
      const markup = keyboard(view.buttons);
      const sent = await ctx.reply(view.html, {
        parse_mode: 'HTML',
        ...(markup === undefined ? {} : { reply_markup: markup }),
      });
      await bot.state.set(
        `${PENDING_PREFIX}${sent.chat.id}:${sent.message_id}`,
        String(approval.id),
      );
    }
    if (open.length > PENDING_SHOWN)
      await ctx.reply(
        `…and ${open.length - PENDING_SHOWN} more: \`kugetsu approvals\` lists them all.`,
      );
  });

  // A reply to a question's message answers it; any other text goes on to the next handler.
  guarded.on('message:text', async (ctx, next) => {
    const replied = ctx.message.reply_to_message;
    if (replied === undefined || replied.from?.id !== ctx.me.id) return next();
    const chatId = ctx.chat.id;
    const pending = await bot.state.get(`${PENDING_PREFIX}${chatId}:${replied.message_id}`);
    const id =
      pending === null
        ? await bot.deliveries.approvalAt(chatId, replied.message_id)
        : Number(pending);
    const approval = id === null ? null : await home.store.approvals.get(id);
    if (approval === null) return next();
    if (approval.kind !== 'question')
      throw new UsageError(`approval #${approval.id} is not a question: use its buttons`);
    await resolve(
      ctx,
      approval,
      { kind: 'answer', text: ctx.message.text },
      {
        chatId,
        messageId: replied.message_id,
      },
    );
    await ctx.reply(`✅ Answer sent to task #${approval.taskId}.`, {
      reply_parameters: { message_id: ctx.message.message_id },
    });
  });

  return composer;
}

function verdictOf(press: ApprovalPress, approval: Approval): ApprovalVerdict {
  switch (press.verb) {
    case 'once':
      return { kind: 'allow', scope: 'once' };
    case 'task':
      return { kind: 'allow', scope: 'task' };
    case 'deny':
      return { kind: 'deny', message: null };
    case 'pick': {
      const option = approval.options[press.option];
      if (option === undefined) throw new UsageError('that answer is no longer offered');
      return { kind: 'answer', text: option };
    }
  }
}
