/**
 * One SQLite database file through better-sqlite3, WAL mode: opening and migrating it, prepared
 * statements kept per SQL text, BEGIN IMMEDIATE transactions, and the event insert every area
 * shares. Several processes share one home, so writers wait briefly for the lock.
 */
import type { EventData, EventType } from '../../domain.js';
import { OperationError } from '../../errors.js';
import { eventText } from '../../events/event-text.js';
import { MIGRATIONS } from '../migrations.js';
import { SqliteConnection } from './sqlite-connection.js';

export class SqliteDb extends SqliteConnection {
  /** Opens (creating if needed) the database and applies pending migrations. */
  static open(file: string): SqliteDb {
    const db = new SqliteDb(SqliteConnection.connect(file, { mustExist: false }));
    db.raw.pragma('foreign_keys = ON');
    db.migrateCore();
    return db;
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

  private migrateCore(): void {
    const userVersion = (): number => this.raw.pragma('user_version', { simple: true }) as number;
    if (userVersion() === MIGRATIONS.length) return;
    // A migration may rebuild a table others reference; SQLite requires foreign keys off for
    // that, and the pragma has no effect inside a transaction.
    this.raw.pragma('foreign_keys = OFF');
    try {
      this.migrate(MIGRATIONS, {
        name: 'schema',
        read: userVersion,
        write: (version) => this.raw.pragma(`user_version = ${version}`),
        verify: (version) => {
          const broken = this.raw.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0)
            throw new OperationError(`migration ${version} broke ${broken.length} references`);
        },
      });
    } finally {
      this.raw.pragma('foreign_keys = ON');
    }
  }
}
