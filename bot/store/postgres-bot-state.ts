/** The bot's keyed state and forum topics in the fleet's PostgreSQL database. */
import type { PgDb, PgSql } from '../../core/store/postgres/pg-db.js';
import { toChatTopic, type ChatTopicRow } from './bot-rows.js';
import type { BotStateRecords, ChatTopic, TopicRecords } from './bot-store.js';

export async function setState(sql: PgSql, key: string, value: string, now: number): Promise<void> {
  await sql.run(
    `INSERT INTO bot_state (key, value, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    key,
    value,
    now,
  );
}

export function postgresBotState(db: PgDb): BotStateRecords {
  const { sql } = db;
  return {
    get: async (key) =>
      (await sql.get<{ value: string }>('SELECT value FROM bot_state WHERE key = $1', key))
        ?.value ?? null,
    set: (key, value, now = Date.now()) => setState(sql, key, value, now),
    // Keys compare byte by byte, as in SQLite, whatever the database's collation.
    list: async (prefix) =>
      (
        await sql.all<{ key: string; value: string; updated_at: number }>(
          `SELECT key, value, updated_at FROM bot_state
           WHERE left(key, char_length($1::text)) = $1::text
           ORDER BY updated_at, key COLLATE "C"`,
          prefix,
        )
      ).map((r) => ({ key: r.key, value: r.value, updatedAt: r.updated_at })),
    async delete(key) {
      await sql.run('DELETE FROM bot_state WHERE key = $1', key);
    },
    // Of two DELETEs of one row, the second waits for the first and then finds nothing.
    take: async (key) =>
      (
        await sql.get<{ value: string }>(
          'DELETE FROM bot_state WHERE key = $1 RETURNING value',
          key,
        )
      )?.value ?? null,
    move: (from, to, now = Date.now()) =>
      db.transaction(async (tx) => {
        await setState(tx, to.key, to.value, now);
        await tx.run('DELETE FROM bot_state WHERE key = $1', from);
      }),
  };
}

export function postgresTopics(db: PgDb): TopicRecords {
  const { sql } = db;
  const one = async (query: string, ...params: unknown[]): Promise<ChatTopic | null> => {
    const row = await sql.get<ChatTopicRow>(query, ...params);
    return row === undefined ? null : toChatTopic(row);
  };
  return {
    get: (chatId, issueRef) =>
      one('SELECT * FROM chat_topics WHERE chat_id = $1 AND issue_ref = $2', chatId, issueRef),
    byThread: (chatId, threadId) =>
      one('SELECT * FROM chat_topics WHERE chat_id = $1 AND thread_id = $2', chatId, threadId),
    async save(topic, now = Date.now()) {
      await sql.run(
        `INSERT INTO chat_topics (chat_id, issue_ref, thread_id, name, created_at, closed_at)
         VALUES ($1, $2, $3, $4, $5, NULL)
         ON CONFLICT (chat_id, issue_ref) DO UPDATE SET thread_id = excluded.thread_id,
           name = excluded.name, created_at = excluded.created_at, closed_at = NULL`,
        topic.chatId,
        topic.issueRef,
        topic.threadId,
        topic.name,
        now,
      );
    },
    async setClosed(chatId, issueRef, closedAt) {
      await sql.run(
        'UPDATE chat_topics SET closed_at = $1 WHERE chat_id = $2 AND issue_ref = $3',
        closedAt,
        chatId,
        issueRef,
      );
    },
    open: async () =>
      (
        await sql.all<ChatTopicRow>(
          'SELECT * FROM chat_topics WHERE closed_at IS NULL ORDER BY created_at',
        )
      ).map(toChatTopic),
  };
}
