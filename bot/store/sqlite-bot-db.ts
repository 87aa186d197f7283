/**
 * The bot's own connection to the home's SQLite file, with the bot's migrations recorded in
 * its `bot_schema` row (the core's are in PRAGMA user_version).
 */
import { SqliteConnection } from '../../core/store/sqlite/sqlite-connection.js';
import { BOT_MIGRATIONS } from './bot-migrations.js';

export class SqliteBotDb extends SqliteConnection {
  /** Opens the home's database (which the core has created and migrated) for the bot. */
  static open(file: string): SqliteBotDb {
    const db = new SqliteBotDb(SqliteConnection.connect(file, { mustExist: true }));
    db.raw.exec(
      'CREATE TABLE IF NOT EXISTS bot_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)',
    );
    db.migrate(BOT_MIGRATIONS, {
      name: 'bot schema',
      read: () =>
        db.get<{ version: number }>('SELECT version FROM bot_schema WHERE id = 1')?.version ?? 0,
      write: (version) =>
        db.run(
          `INSERT INTO bot_schema (id, version) VALUES (1, ?)
           ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
          version,
        ),
    });
    return db;
  }
}
