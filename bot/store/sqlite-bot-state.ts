/** The bot's keyed state and forum topics in the home's SQLite file. */
import { toChatTopic, type ChatTopicRow } from './bot-rows.js';
import type { BotStateRecords, ChatTopic, TopicRecords } from './bot-store.js';
import type { SqliteBotDb } from './sqlite-bot-db.js';

export function setState(db: SqliteBotDb, key: string, value: string, now: number): void {
  db.run(
    `INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    key,
    value,
    now,
  );
}

export function sqliteBotState(db: SqliteBotDb): BotStateRecords {
  return {
    get: (key) =>
      Promise.resolve(
        db.get<{ value: string }>('SELECT value FROM bot_state WHERE key = ?', key)?.value ?? null,
      ),
    set(key, value, now = Date.now()) {
      setState(db, key, value, now);
      return Promise.resolve();
    },
    list: (prefix) =>
      Promise.resolve(
        db
          .all<{ key: string; value: string; updated_at: number }>(
            `SELECT key, value, updated_at FROM bot_state WHERE substr(key, 1, ?) = ?
             ORDER BY updated_at, key`,
            prefix.length,
            prefix,
          )
          .map((r) => ({ key: r.key, value: r.value, updatedAt: r.updated_at })),
      ),
    delete(key) {
      db.run('DELETE FROM bot_state WHERE key = ?', key);
      return Promise.resolve();
    },
    take: (key) =>
      Promise.resolve(
        db.get<{ value: string }>('DELETE FROM bot_state WHERE key = ? RETURNING value', key)
          ?.value ?? null,
      ),
    move(from, to, now = Date.now()) {
      db.immediate(() => {
        setState(db, to.key, to.value, now);
        db.run('DELETE FROM bot_state WHERE key = ?', from);
      });
      return Promise.resolve();
    },
  };
}

export function sqliteTopics(db: SqliteBotDb): TopicRecords {
  const one = (sql: string, ...params: unknown[]): Promise<ChatTopic | null> => {
    const row = db.get<ChatTopicRow>(sql, ...params);
    return Promise.resolve(row === undefined ? null : toChatTopic(row));
  };
  return {
    get: (chatId, issueRef) =>
      one('SELECT * FROM chat_topics WHERE chat_id = ? AND issue_ref = ?', chatId, issueRef),
    byThread: (chatId, threadId) =>
      one('SELECT * FROM chat_topics WHERE chat_id = ? AND thread_id = ?', chatId, threadId),
    save(topic, now = Date.now()) {
      db.run(
        `INSERT INTO chat_topics (chat_id, issue_ref, thread_id, name, created_at, closed_at)
         VALUES (?, ?, ?, ?, ?, NULL)
         ON CONFLICT (chat_id, issue_ref) DO UPDATE SET thread_id = excluded.thread_id,
           name = excluded.name, created_at = excluded.created_at, closed_at = NULL`,
        topic.chatId,
        topic.issueRef,
        topic.threadId,
        topic.name,
        now,
      );
      return Promise.resolve();
    },
    setClosed(chatId, issueRef, closedAt) {
      db.run(
        'UPDATE chat_topics SET closed_at = ? WHERE chat_id = ? AND issue_ref = ?',
        closedAt,
        chatId,
        issueRef,
      );
      return Promise.resolve();
    },
    open: () =>
      Promise.resolve(
        db
          .all<ChatTopicRow>(
            'SELECT * FROM chat_topics WHERE closed_at IS NULL ORDER BY created_at',
          )
          .map(toChatTopic),
      ),
  };
}
