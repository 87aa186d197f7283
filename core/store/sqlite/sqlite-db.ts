/**
 * One SQLite database file through better-sqlite3, WAL mode: opening and migrating it, prepared
 * statements kept per SQL text, BEGIN IMMEDIATE transactions, and the event insert every area
 * shares. Several processes share one home, so writers wait briefly for the lock.
 */
import Database, { type RunResult, type Statement } from 'better-sqlite3';
import type { EventData, EventType } from '../../domain.js';
import { OperationError } from '../../errors.js';
import { eventText } from '../../events/event-text.js';
import { MIGRATIONS } from '../migrations.js';

export class SqliteDb {
  // Prepared once per SQL text: re-preparing on every call churns native statement objects
  // that a long-lived daemon would otherwise accumulate until the GC gets to them.
  private readonly statements = new Map<string, Statement>();

  private constructor(readonly raw: Database.Database) {}

  /** Opens (creating if needed) the database and applies pending migrations. */
  static open(file: string): SqliteDb {
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 10000');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    const db = new SqliteDb(raw);
    db.migrate();
    return db;
  }

  statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.raw.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
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

  /** Runs `fn` in a BEGIN IMMEDIATE transaction: the write lock is held from the first read. */
  immediate<T>(fn: () => T): T {
    return this.raw.transaction(fn).immediate();
  }

  /** Records an event; its one-line text is made from its data (events/event-text.ts). */
  insertEvent(
    type: EventType,
    taskId: number,
    issueRef: string | null,
    data: EventData,
    now: number,
  ): void {
    this.run(
      'INSERT INTO events (type, task_id, issue_ref, message, data, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      type,
      taskId,
      issueRef,
      eventText(type, taskId, issueRef ?? 'the PM agent', data),
      Object.keys(data).length === 0 ? null : JSON.stringify(data),
      now,
    );
  }

  close(): void {
    if (this.raw.open) this.raw.close();
  }

  private migrate(): void {
    const current = this.raw.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new OperationError(
        `kugetsu.db has schema version ${current}, newer than this kugetsu (${MIGRATIONS.length}): upgrade kugetsu`,
      );
    }
    if (current === MIGRATIONS.length) return;
    // A migration may rebuild a table others reference; SQLite requires foreign keys off for
    // that, and the pragma has no effect inside a transaction.
    this.raw.pragma('foreign_keys = OFF');
    try {
      for (let version = current; version < MIGRATIONS.length; version += 1) {
        const sql = MIGRATIONS[version] ?? '';
        this.immediate(() => {
          // Another process may have migrated while we waited for the lock.
          const now = this.raw.pragma('user_version', { simple: true }) as number;
          if (now > version) return;
          this.raw.exec(sql);
          const broken = this.raw.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) {
            throw new OperationError(`migration ${version + 1} broke ${broken.length} references`);
          }
          this.raw.pragma(`user_version = ${version + 1}`);
        });
      }
    } finally {
      this.raw.pragma('foreign_keys = ON');
    }
  }
}
