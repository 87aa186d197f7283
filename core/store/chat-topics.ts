/**
 * Which forum topic of a notification chat belongs to which session: one per (chat, issue),
 * made on the session's first push there, closed once the session is gone, reopened if it
 * comes back. Looked up both ways: pushes by issue, messages written in a topic by thread.
 */
import type { StoreInternals } from './approval-records.js';

export interface ChatTopic {
  chatId: number;
  issueRef: string;
  threadId: number;
  name: string;
  /** Epoch ms; null while the topic is open. */
  closedAt: number | null;
}

interface ChatTopicRow {
  chat_id: number;
  issue_ref: string;
  thread_id: number;
  name: string;
  closed_at: number | null;
}

function toChatTopic(row: ChatTopicRow): ChatTopic {
  return {
    chatId: row.chat_id,
    issueRef: row.issue_ref,
    threadId: row.thread_id,
    name: row.name,
    closedAt: row.closed_at,
  };
}

export class ChatTopics {
  constructor(private readonly db: Pick<StoreInternals, 'stmt'>) {}

  get(chatId: number, issueRef: string): ChatTopic | null {
    const row = this.db
      .stmt('SELECT * FROM chat_topics WHERE chat_id = ? AND issue_ref = ?')
      .get(chatId, issueRef) as ChatTopicRow | undefined;
    return row === undefined ? null : toChatTopic(row);
  }

  byThread(chatId: number, threadId: number): ChatTopic | null {
    const row = this.db
      .stmt('SELECT * FROM chat_topics WHERE chat_id = ? AND thread_id = ?')
      .get(chatId, threadId) as ChatTopicRow | undefined;
    return row === undefined ? null : toChatTopic(row);
  }

  /** Records a topic made (or made anew) for a session; it is open. */
  save(topic: Omit<ChatTopic, 'closedAt'>, now = Date.now()): void {
    this.db
      .stmt(
        `INSERT INTO chat_topics (chat_id, issue_ref, thread_id, name, created_at, closed_at)
         VALUES (?, ?, ?, ?, ?, NULL)
         ON CONFLICT (chat_id, issue_ref) DO UPDATE SET thread_id = excluded.thread_id,
           name = excluded.name, created_at = excluded.created_at, closed_at = NULL`,
      )
      .run(topic.chatId, topic.issueRef, topic.threadId, topic.name, now);
  }

  setClosed(chatId: number, issueRef: string, closedAt: number | null): void {
    this.db
      .stmt('UPDATE chat_topics SET closed_at = ? WHERE chat_id = ? AND issue_ref = ?')
      .run(closedAt, chatId, issueRef);
  }

  /** Open topics whose session no longer exists (destroyed, pruned): to be closed. */
  orphaned(): ChatTopic[] {
    return (
      this.db
        .stmt(
          `SELECT * FROM chat_topics WHERE closed_at IS NULL
           AND issue_ref NOT IN (SELECT issue_ref FROM sessions) ORDER BY created_at`,
        )
        .all() as ChatTopicRow[]
    ).map(toChatTopic);
  }
}
