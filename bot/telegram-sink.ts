/**
 * Pushes events to the notify chats. Each (event, chat) push is recorded in the store once
 * Telegram accepted it, so a restart resumes where it stopped without repeating a message,
 * and replies to a notification can be traced back to its task.
 */
import type { Api } from 'grammy';
import type { KugetsuEvent } from '../core/domain.js';
import type { NotificationSink } from '../core/notifications/notification-sink.js';
import type { Store } from '../core/store/store.js';
import { pushApprovalEvent, type PushSender } from './approval-pushes.js';
import { eventMessage } from './event-message.js';
import { ChatPacer } from './chat-pacer.js';
import { keyboard } from './keyboard.js';
import { isGoneTopic, type TopicRouter } from './topics.js';

export interface TelegramSinkOptions {
  api: Api;
  store: Store;
  chats: readonly number[];
  /** The failed run's last transcript lines, already scrubbed. */
  errorTail: (taskId: number) => string[];
  /** What "Give more time" on a stall question gives (KUGETSU_STALL_EXTEND_MINUTES). */
  stallExtendMs: number;
  pacer?: ChatPacer;
  /** Forum chats: each session's pushes go to its own topic. Absent: every chat's main thread. */
  topics?: TopicRouter;
}

export function telegramSink(options: TelegramSinkOptions): NotificationSink {
  const pacer = options.pacer ?? new ChatPacer();
  const { api, topics } = options;

  /** Sends into the session's topic where the chat has topics; a topic gone by hand is remade. */
  const sendTo: PushSender = async (chatId, issueRef, html, other) => {
    const thread = (await topics?.threadFor(chatId, issueRef)) ?? null;
    if (thread === null || topics === undefined || issueRef === null)
      return api.sendMessage(chatId, html, other);
    try {
      return await api.sendMessage(chatId, html, { ...other, message_thread_id: thread });
    } catch (err) {
      if (!isGoneTopic(err)) throw err;
      topics.forget(chatId, issueRef);
      const again = await topics.threadFor(chatId, issueRef);
      return api.sendMessage(chatId, html, {
        ...other,
        ...(again === null ? {} : { message_thread_id: again }),
      });
    }
  };

  return {
    name: 'telegram',
    async deliver(event: KugetsuEvent) {
      if (event.type === 'approval_requested' || event.type === 'approval_resolved') {
        await pushApprovalEvent(event, { ...options, pacer, send: sendTo });
        return;
      }
      const task = options.store.getTask(event.taskId);
      const session = event.issueRef === null ? null : options.store.getSession(event.issueRef);
      const message = eventMessage(
        event,
        task,
        event.type === 'task_error' ? options.errorTail(event.taskId) : [],
        session?.pullRequest ?? null,
      );
      for (const chatId of options.chats) {
        if (options.store.isDelivered(event.id, chatId)) continue;
        await pacer.wait(chatId);
        const markup = keyboard(message.buttons);
        const sent = await sendTo(chatId, event.issueRef, message.html, {
          parse_mode: 'HTML',
          disable_notification: message.silent,
          link_preview_options: { is_disabled: true },
          ...(markup === undefined ? {} : { reply_markup: markup }),
        });
        options.store.recordDelivery({
          eventId: event.id,
          chatId,
          messageId: sent.message_id,
          taskId: event.taskId,
          issueRef: event.issueRef,
        });
      }
    },
  };
}
