/** The bot's rows as both engines return them, and the SQL both engines read them with. */
import type { EventType } from '../../core/domain.js';
import type { ChatDelivery, ChatTopic } from './bot-store.js';

export interface DeliveryRow {
  event_id: number;
  event_type: EventType;
  chat_id: number;
  message_id: number;
  task_id: number;
  issue_ref: string | null;
  approval_id: number | null;
}

export const DELIVERY_COLUMNS =
  'event_id, event_type, chat_id, message_id, task_id, issue_ref, approval_id';

/** `task_…` events: the ones that show a task's state. */
export const TASK_EVENT = `event_type LIKE 'task!_%' ESCAPE '!'`;

export function toDelivery(row: DeliveryRow): ChatDelivery {
  return {
    eventId: row.event_id,
    eventType: row.event_type,
    chatId: row.chat_id,
    messageId: row.message_id,
    taskId: row.task_id,
    issueRef: row.issue_ref,
    approvalId: row.approval_id,
  };
}

/** The values of a delivery's row, in the order of `INSERT_DELIVERY_COLUMNS`. */
export function deliveryValues(delivery: ChatDelivery, now: number): unknown[] {
  return [
    delivery.eventId,
    delivery.eventType,
    delivery.chatId,
    delivery.messageId,
    delivery.taskId,
    delivery.issueRef,
    delivery.approvalId ?? null,
    now,
    delivery.kind ?? 'message',
  ];
}

export const INSERT_DELIVERY_COLUMNS = `${DELIVERY_COLUMNS}, sent_at, kind`;

export interface ChatTopicRow {
  chat_id: number;
  issue_ref: string;
  thread_id: number;
  name: string;
  closed_at: number | null;
}

export function toChatTopic(row: ChatTopicRow): ChatTopic {
  return {
    chatId: row.chat_id,
    issueRef: row.issue_ref,
    threadId: row.thread_id,
    name: row.name,
    closedAt: row.closed_at,
  };
}
