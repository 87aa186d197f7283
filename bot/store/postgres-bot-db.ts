/**
 * The bot's own pool on the fleet's PostgreSQL database (the core's, KUGETSU_DATABASE_URL), with
 * the bot's migrations recorded in `bot_schema_migrations` (the core's are in
 * `schema_migrations`), so every worker's bot reads and writes the same records.
 */
import { PgDb } from '../../core/store/postgres/pg-db.js';
import { BOT_PG_MIGRATIONS } from './postgres-bot-migrations.js';

/** Few connections: the bot makes one statement (or one short transaction) at a time. */
const BOT_CONNECTIONS = 4;

export async function openPostgresBotDb(url: string): Promise<PgDb> {
  const db = await PgDb.open(url, { maxConnections: BOT_CONNECTIONS });
  try {
    await db.migrate({
      name: 'bot schema',
      table: 'bot_schema_migrations',
      migrations: BOT_PG_MIGRATIONS,
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
