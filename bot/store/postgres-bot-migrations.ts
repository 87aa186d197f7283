/**
 * The bot's numbered PostgreSQL migrations, its own track beside the core's
 * (core/store/postgres/migrations.ts), recorded in `bot_schema_migrations`. The core's
 * migration 1 made the bot's three tables, in SQLite's shape of then, and always runs first
 * (the bot's pool opens through PgDb.open); they stayed empty until the bot kept its records
 * here. Never edit a shipped migration: add the next one, beside the SQLite one
 * (bot-migrations.ts).
 */
export const BOT_PG_MIGRATIONS: readonly string[] = [
  // 1: SQLite's bot migration 2: a push keeps its event's type and approval, so the bot's
  // queries read its own table only.
  `
  ALTER TABLE chat_deliveries ADD COLUMN event_type TEXT;
  ALTER TABLE chat_deliveries ADD COLUMN approval_id BIGINT;
  CREATE INDEX chat_deliveries_by_task ON chat_deliveries (task_id, event_type);
  `,
];
