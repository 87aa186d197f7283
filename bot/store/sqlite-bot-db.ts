/**
 * The bot's own connection to the home's SQLite file: WAL, a busy timeout (the daemon, the
 * CLI and the bot write the same file), statements prepared once, BEGIN IMMEDIATE for the
 * calls that write more than one row, and the bot's migrations.
 */
import Database, { type RunResult, type Statement } from 'better-sqlite3';
import { OperationError } from '../../core/errors.js';
import { BOT_MIGRATIONS } from './bot-migrations.js';

export class SqliteBotDb {
  private readonly statements = new Map<string, Statement>();

  private constructor(private readonly raw: Database.Database) {}

  /** Opens the home's database (which the core has created and migrated) for the bot. */
  static open(file: string): SqliteBotDb {
    const raw = new Database(file, { fileMustExist: true });
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 10000');
    raw.pragma('synchronous = NORMAL');
    const db = new SqliteBotDb(raw);
    db.migrate();
    return db;
  }

  run(sql: string, ...params: unknown[]): RunResult {
    return this.statement(sql).run(...params);
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.statement(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.statement(sql).all(...params) as T[];
  }

  immediate<T>(fn: () => T): T {
    return this.raw.transaction(fn).immediate();
  }

  close(): void {
    if (this.raw.open) this.raw.close();
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.raw.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private version(): number {
    const row = this.raw.prepare('SELECT version FROM bot_schema WHERE id = 1').get() as
      { version: number } | undefined;
    return row?.version ?? 0;
  }

  private migrate(): void {
    this.raw.exec(
      'CREATE TABLE IF NOT EXISTS bot_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)',
    );
    const current = this.version();
    if (current > BOT_MIGRATIONS.length) {
      throw new OperationError(
        `kugetsu.db has bot schema version ${current}, newer than this kugetsu (${BOT_MIGRATIONS.length}): upgrade kugetsu`,
      );
    }
    for (let version = current; version < BOT_MIGRATIONS.length; version += 1) {
      this.immediate(() => {
        // Another process may have migrated while we waited for the lock.
        if (this.version() > version) return;
        this.raw.exec(BOT_MIGRATIONS[version] ?? '');
        this.raw
          .prepare(
            `INSERT INTO bot_schema (id, version) VALUES (1, ?)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
          )
          .run(version + 1);
      });
    }
  }
}
