/**
 * The bot's numbered schema migrations, on the home's database file, recorded in its own
 * `bot_schema` row (the core's are in PRAGMA user_version). Until 0.2 the core's migrations
 * 2, 7 and 8 made these tables; migration 1 makes them only where they are missing, so an
 * existing home keeps its data and a new one gets the same schema. Never edit a shipped
 * migration: add the next one.
 */
export const BOT_MIGRATIONS: readonly string[] = [
  // 1: pushes per event and chat, keyed bot state, forum topics (as core's 2, 7 and 8 left them).
  `
  CREATE TABLE IF NOT EXISTS chat_deliveries (
    event_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    task_id INTEGER NOT NULL,
    issue_ref TEXT,
    sent_at INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'edit', 'digest')),
    PRIMARY KEY (event_id, chat_id)
  );
  CREATE INDEX IF NOT EXISTS chat_deliveries_by_message ON chat_deliveries (chat_id, message_id);
  CREATE INDEX IF NOT EXISTS chat_deliveries_recent ON chat_deliveries (chat_id, sent_at);

  CREATE TABLE IF NOT EXISTS bot_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS chat_topics (
    chat_id INTEGER NOT NULL,
    issue_ref TEXT NOT NULL,
    thread_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    closed_at INTEGER,
    PRIMARY KEY (chat_id, issue_ref)
  );
  CREATE UNIQUE INDEX IF NOT EXISTS chat_topics_by_thread ON chat_topics (chat_id, thread_id);
  `,
  // 2: a push keeps its event's type and approval, so the bot's queries read its own table
  // only. Pushes made before are filled in from the events they pushed, once.
  `
  ALTER TABLE chat_deliveries ADD COLUMN event_type TEXT;
  ALTER TABLE chat_deliveries ADD COLUMN approval_id INTEGER;
  UPDATE chat_deliveries SET
    event_type = (SELECT type FROM events WHERE events.id = chat_deliveries.event_id),
    approval_id = (SELECT json_extract(data, '$.approvalId') FROM events
                   WHERE events.id = chat_deliveries.event_id);
  CREATE INDEX IF NOT EXISTS chat_deliveries_by_task ON chat_deliveries (task_id, event_type);
  `,
];
