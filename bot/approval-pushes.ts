/**
 * Approval events on the phone: a request is a new message that pings, with its buttons; its
 * resolution edits that message in every chat (buttons gone, who answered shown) rather than
 * sending another. Both are recorded per event and chat, so a restart repeats neither.
 */
import { GrammyError, type Api } from 'grammy';
import type { Message } from 'grammy/types';
import type { KugetsuEvent } from '../core/domain.js';
import type { StoreApi } from '../core/store/store-interface.js';
import type { DeliveryRecords } from './store/bot-store.js';
import { approvalRequestView, approvalResolvedView } from './views/approval-message.js';
import type { ChatPacer } from './chat-pacer.js';
import { keyboard } from './keyboard.js';

/** Sends a push about `issueRef` to a chat (into the session's forum topic, where there is one). */
export type PushSender = (
  chatId: number,
  issueRef: string | null,
  html: string,
  other: Parameters<Api['sendMessage']>[2],
) => Promise<Message.TextMessage>;

export interface ApprovalPushOptions {
  api: Api;
  store: Pick<StoreApi, 'approvals'>;
  deliveries: DeliveryRecords;
  chats: readonly number[];
  pacer: ChatPacer;
  stallExtendMs: number;
  /** Default: `api.sendMessage` to the chat's main thread. */
  send?: PushSender;
}

export async function pushApprovalEvent(
  event: KugetsuEvent,
  o: ApprovalPushOptions,
): Promise<void> {
  const approvalId = event.data.approvalId;
  const approval = approvalId === undefined ? null : await o.store.approvals.get(approvalId);
  // Deleted with its task: there is nothing left to ask or to show.
  if (approval === null) return;
  if (event.type === 'approval_requested') {
    const view = approvalRequestView(approval, o.stallExtendMs, Date.now());
    // Asked and answered before this push went out (a restart, a quick CLI answer): the
    // message is sent already answered, so no stale button invites a tap.
    const shown = approval.state === 'open' ? view : approvalResolvedView(approval, Date.now());
    for (const chatId of o.chats) {
      if (await o.deliveries.isDelivered(event.id, chatId)) continue;
      await o.pacer.wait(chatId);
      const markup = keyboard(shown.buttons);
      const send: PushSender =
        o.send ?? ((chat, _ref, html, other) => o.api.sendMessage(chat, html, other));
      const sent = await send(chatId, event.issueRef, shown.html, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...(markup === undefined ? {} : { reply_markup: markup }),
      });
      await o.deliveries.record({
        eventId: event.id,
        eventType: event.type,
        approvalId: approval.id,
        chatId,
        messageId: sent.message_id,
        taskId: event.taskId,
        issueRef: event.issueRef,
      });
    }
    return;
  }
  const view = approvalResolvedView(approval, Date.now());
  for (const delivery of await o.deliveries.ofApprovalRequest(approval.id)) {
    if (await o.deliveries.isDelivered(event.id, delivery.chatId)) continue;
    await o.pacer.wait(delivery.chatId);
    await editApprovalMessage(o.api, delivery.chatId, delivery.messageId, view.html);
    await o.deliveries.record({ ...delivery, eventId: event.id, eventType: event.type });
  }
}

/** Shows the resolved request; a message already showing it, or deleted, is left as it is. */
export async function editApprovalMessage(
  api: Api,
  chatId: number,
  messageId: number,
  html: string,
): Promise<void> {
  try {
    // No reply_markup: the buttons go.
    await api.editMessageText(chatId, messageId, html, {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
    });
  } catch (err) {
    if (
      err instanceof GrammyError &&
      (err.description.includes('message is not modified') ||
        err.description.includes('message to edit not found'))
    )
      return;
    throw err;
  }
}
