/**
 * Pushes events to the notify chats. Each (event, chat) push is recorded in the store once
 * Telegram accepted it, so a restart resumes where it stopped without repeating a message,
 * and replies to a notification can be traced back to its task.
 */
import type { Api } from 'grammy';
import type { KugetsuEvent } from '../core/domain.js';
import type { NotificationSink } from '../core/notifications/notification-sink.js';
import type { Store } from '../core/store/store.js';
import { pushApprovalEvent } from './approval-pushes.js';
import { eventMessage } from './event-message.js';
import { ChatPacer } from './chat-pacer.js';
import { keyboard } from './keyboard.js';

export interface TelegramSinkOptions {
  api: Api;
  store: Store;
  chats: readonly number[];
  /** The failed run's last transcript lines, already scrubbed. */
  errorTail: (taskId: number) => string[];
  /** What "Give more time" on a stall question gives (KUGETSU_STALL_EXTEND_MINUTES). */
  stallExtendMs: number;
  pacer?: ChatPacer;
}

export function telegramSink(options: TelegramSinkOptions): NotificationSink {
  const pacer = options.pacer ?? new ChatPacer();
  return {
    name: 'telegram',
    async deliver(event: KugetsuEvent) {
      if (event.type === 'approval_requested' || event.type === 'approval_resolved') {
        await pushApprovalEvent(event, { ...options, pacer });
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
        const sent = await options.api.sendMessage(chatId, message.html, {
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
