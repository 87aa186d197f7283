/**
 * Pushes events to the notify chats. Each (event, chat) push is recorded in the store once
 * Telegram accepted it, so a restart resumes where it stopped without repeating a message,
 * and replies to a notification can be traced back to its task.
 */
import { GrammyError, type Api } from 'grammy';
import type { KugetsuEvent } from '../core/domain.js';
import type { NotificationSink } from '../core/notifications/notification-sink.js';
import type { StoreApi } from '../core/store/store-interface.js';
import type { BotStore, ChatDelivery } from './store/bot-store.js';
import { pushApprovalEvent, type PushSender } from './approval-pushes.js';
import { DIGEST_WINDOW_MS, planPush } from './batching.js';
import { DigestPushes } from './digest-pushes.js';
import { eventMessage } from './views/event-message.js';
import { ChatPacer } from './chat-pacer.js';
import { keyboard } from './keyboard.js';
import { isGoneTopic, type TopicRouter } from './topic-router.js';

/** The Telegram sink's name, under which the store keeps its delivery cursor. */
export const TELEGRAM_SINK = 'telegram';

export interface TelegramSinkOptions {
  api: Api;
  store: Pick<StoreApi, 'tasks' | 'sessions' | 'approvals'>;
  bot: BotStore;
  chats: readonly number[];
  /** The failed run's last transcript lines, already scrubbed. */
  errorTail: (taskId: number) => Promise<string[]>;
  /** What "Give more time" on a stall question gives (KUGETSU_STALL_EXTEND_MINUTES). */
  stallExtendMs: number;
  pacer?: ChatPacer;
  /** Forum chats: each session's pushes go to its own topic. Absent: every chat's main thread. */
  topics?: TopicRouter;
  log?: (line: string) => void;
}

export function telegramSink(options: TelegramSinkOptions): NotificationSink {
  const pacer = options.pacer ?? new ChatPacer();
  const { api, topics } = options;
  const digests = new DigestPushes(api, options.bot, pacer, options.log ?? (() => undefined));
  // Not awaited: a digest left behind is edited a few seconds later anyway.
  void digests.resume(options.chats);

  /** Sends into the session's topic where the chat has topics; a topic gone by hand is remade. */
  const sendTo: PushSender = async (chatId, issueRef, html, other) => {
    const thread = (await topics?.threadFor(chatId, issueRef)) ?? null;
    if (thread === null || topics === undefined || issueRef === null)
      return api.sendMessage(chatId, html, other);
    try {
      return await api.sendMessage(chatId, html, { ...other, message_thread_id: thread });
    } catch (err) {
      if (!isGoneTopic(err)) throw err;
      await topics.forget(chatId, issueRef);
      const again = await topics.threadFor(chatId, issueRef);
      return api.sendMessage(chatId, html, {
        ...other,
        ...(again === null ? {} : { message_thread_id: again }),
      });
    }
  };

  return {
    name: TELEGRAM_SINK,
    async deliver(event: KugetsuEvent) {
      if (event.type === 'approval_requested' || event.type === 'approval_resolved') {
        await pushApprovalEvent(event, {
          ...options,
          deliveries: options.bot.deliveries,
          pacer,
          send: sendTo,
        });
        return;
      }
      const task = await options.store.tasks.get(event.taskId);
      const session =
        event.issueRef === null ? null : await options.store.sessions.get(event.issueRef);
      const message = eventMessage(
        event,
        task,
        event.type === 'task_error' ? await options.errorTail(event.taskId) : [],
        session?.pullRequest ?? null,
      );
      const { deliveries } = options.bot;
      for (const chatId of options.chats) {
        if (await deliveries.isDelivered(event.id, chatId)) continue;
        const now = Date.now();
        const decision = planPush({
          type: event.type,
          taskId: event.taskId,
          now,
          recentTasks: new Set(await deliveries.recentTasks(chatId, now - DIGEST_WINDOW_MS)),
          digest: await digests.span(chatId),
          status: await deliveries.statusMessage(chatId, event.taskId),
        });
        const record = (messageId: number, kind: ChatDelivery['kind']): Promise<void> =>
          deliveries.record({
            eventId: event.id,
            eventType: event.type,
            chatId,
            messageId,
            taskId: event.taskId,
            issueRef: event.issueRef,
            kind,
          });
        if (decision.kind === 'digest') {
          await digests.add(chatId, event, decision.fresh, now);
          continue;
        }
        await pacer.wait(chatId);
        const markup = keyboard(message.buttons);
        if (decision.kind === 'edit') {
          const edited = await editOrKeep(
            api,
            chatId,
            decision.messageId,
            message.html,
            markup,
          ).catch((err: unknown) => {
            // Deleted by hand: the event gets a message of its own below.
            if (err instanceof GrammyError && err.description.includes('message to edit not found'))
              return null;
            throw err;
          });
          if (edited !== null) {
            await record(edited, 'edit');
            continue;
          }
        }
        const sent = await sendTo(chatId, event.issueRef, message.html, {
          parse_mode: 'HTML',
          disable_notification: message.silent,
          link_preview_options: { is_disabled: true },
          ...(markup === undefined ? {} : { reply_markup: markup }),
        });
        await record(sent.message_id, 'message');
      }
    },
  };
}

/**
 * Edits a message in place and returns its id. An edit is idempotent: the same text again (a
 * redelivery after a restart) is Telegram's "not modified", which is success.
 */
async function editOrKeep(
  api: Api,
  chatId: number,
  messageId: number,
  html: string,
  markup: ReturnType<typeof keyboard>,
): Promise<number> {
  try {
    await api.editMessageText(chatId, messageId, html, {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...(markup === undefined ? {} : { reply_markup: markup }),
    });
  } catch (err) {
    if (!(err instanceof GrammyError && err.description.includes('message is not modified')))
      throw err;
  }
  return messageId;
}
