/**
 * The bot's own durable state, apart from the core's: what it pushed where (so a restart
 * neither loses nor repeats a push, and a reply finds its task), small keyed state (the last
 * update handled, prompts, pending requests, digests, conversations, its health), forum topics,
 * and pairing. Async and one statement (or one transaction) per call, so SQLite (bot/store/
 * sqlite-bot-store.ts, on the home's database file) and a server database can implement it.
 */
import type { EventType } from '../../core/domain.js';

export interface ChatDelivery {
  eventId: number;
  /** The event's type, kept with the push so the bot's queries need no core table. */
  eventType: EventType;
  chatId: number;
  messageId: number;
  taskId: number;
  issueRef: string | null;
  /** The approval an `approval_*` event is about. */
  approvalId?: number | null;
  /**
   * `message` (default): a message of its own; `edit`: the task's earlier message, edited;
   * `digest`: a line in the chat's digest message, which belongs to no one task.
   */
  kind?: 'message' | 'edit' | 'digest';
}

export interface DeliveryRecords {
  isDelivered(eventId: number, chatId: number): Promise<boolean>;
  /** Records a push Telegram accepted; recording it again changes nothing. */
  record(delivery: ChatDelivery, now?: number): Promise<void>;
  /** Records a digest line with the digest's new state, in one transaction. */
  recordInDigest(delivery: ChatDelivery, digest: { key: string; value: string }): Promise<void>;
  /** Tasks with a push (of any kind) to `chatId` since `since`: how busy the chat is. */
  recentTasks(chatId: number, since: number): Promise<number[]>;
  /** The task's latest message of its own in `chatId` and the event it shows now. */
  statusMessage(
    chatId: number,
    taskId: number,
  ): Promise<{ messageId: number; type: EventType } | null>;
  /** The first push behind a message kugetsu sent, so a reply to it can continue its task. */
  byMessage(chatId: number, messageId: number): Promise<ChatDelivery | null>;
  /** Where each chat got an event's push. */
  ofEvent(eventId: number): Promise<ChatDelivery[]>;
  /** Where each chat got the request of an approval, whose messages its resolution edits. */
  ofApprovalRequest(approvalId: number): Promise<ChatDelivery[]>;
  /** The approval whose request a chat message pushed, if it is one. */
  approvalAt(chatId: number, messageId: number): Promise<number | null>;
  /** Where each chat got the task's latest `task_started` push: the live status message. */
  started(taskId: number): Promise<ChatDelivery[]>;
}

export interface BotStateEntry {
  key: string;
  value: string;
  updatedAt: number;
}

/** Small keyed facts of the bot: prompts, pending requests, digests, conversations, health. */
export interface BotStateRecords {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, now?: number): Promise<void>;
  /** Entries whose key starts with `prefix`, oldest first. */
  list(prefix: string): Promise<BotStateEntry[]>;
  delete(key: string): Promise<void>;
  /**
   * Deletes an entry and returns what it held, in one statement: of two callers (a double
   * tap, two processes) exactly one gets the value, the other null.
   */
  take(key: string): Promise<string | null>;
  /** Deletes `from` and sets `to`, in one transaction. */
  move(from: string, to: { key: string; value: string }, now?: number): Promise<void>;
}

export interface ChatTopic {
  chatId: number;
  issueRef: string;
  threadId: number;
  name: string;
  /** Epoch ms; null while the topic is open. */
  closedAt: number | null;
}

/** Which forum topic of a notification chat belongs to which session. */
export interface TopicRecords {
  get(chatId: number, issueRef: string): Promise<ChatTopic | null>;
  byThread(chatId: number, threadId: number): Promise<ChatTopic | null>;
  /** Records a topic made (or made anew) for a session; it is open. */
  save(topic: Omit<ChatTopic, 'closedAt'>, now?: number): Promise<void>;
  setClosed(chatId: number, issueRef: string, closedAt: number | null): Promise<void>;
  /** Open topics, oldest first (the caller closes those whose session is gone). */
  open(): Promise<ChatTopic[]>;
}

export interface BotStore {
  readonly deliveries: DeliveryRecords;
  readonly state: BotStateRecords;
  readonly topics: TopicRecords;
  close(): Promise<void>;
}
