/**
 * One PostgreSQL database through a pg.Pool: opening and migrating it, transactions on one
 * pooled client each, the advisory locks that stand in for SQLite's single writer, and the event
 * insert every area shares. Several processes, on several machines, share one database.
 */
import pg from 'pg';
import type { EventData, EventType } from '../../domain.js';
import { OperationError } from '../../errors.js';
import { eventText } from '../../events/event-text.js';
import { classified } from './pg-errors.js';
import { TYPES } from './pg-types.js';
import { PG_MIGRATIONS } from './migrations.js';

/** Statements, on a pooled client in a transaction or on the pool (one statement, autocommit). */
export interface PgSql {
  all<T>(sql: string, ...params: unknown[]): Promise<T[]>;
  get<T>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  /** The number of rows the statement touched. */
  run(sql: string, ...params: unknown[]): Promise<number>;
}

/** A transaction: statements, and events that are written with it. */
export interface PgTx extends PgSql {
  /**
   * Records an event; its one-line text is made from its data (events/event-text.ts). The row
   * is inserted just before COMMIT, under the events lock (see `flushEvents`).
   */
  insertEvent(
    type: EventType,
    taskId: number,
    issueRef: string | null,
    data: EventData,
    now: number,
  ): void;
}

/**
 * Transaction-scoped advisory locks, two-key form under one class id of kugetsu's own, so no
 * other application's advisory keys (one-key or two-key) collide with them. They are scoped to
 * the database: one database is one kugetsu home.
 */
const LOCK_CLASS = 0x6b756765; // 'kuge'
export const LOCKS = {
  /** Migrations: one process migrates at a time. */
  migrations: 1,
  /** The queue: claims and every transaction that moves a task between states. */
  queue: 2,
  /** Event ids: taken last, just before COMMIT, so ids become visible in the order they are given. */
  events: 3,
  /** The daemon lock row in `meta`. */
  daemon: 4,
  /** Servers: the first is the default, and only one is. */
  servers: 5,
  /** Leadership leases: one holder is told it has a lease at a time. */
  leases: 6,
} as const;
export type LockName = keyof typeof LOCKS;

interface PendingEvent {
  type: EventType;
  taskId: number;
  issueRef: string | null;
  message: string;
  data: string | null;
  createdAt: number;
}

function statements(query: (sql: string, params: unknown[]) => Promise<pg.QueryResult>): PgSql {
  return {
    all: async <T>(sql: string, ...params: unknown[]) => (await query(sql, params)).rows as T[],
    get: async <T>(sql: string, ...params: unknown[]) =>
      (await query(sql, params)).rows[0] as T | undefined,
    run: async (sql: string, ...params: unknown[]) => (await query(sql, params)).rowCount ?? 0,
  };
}

/** Numbered migrations recorded in a table of their own (`table` is a constant, never input). */
export interface MigrationTrack {
  /** What an error calls it: `schema`, `bot schema`. */
  name: string;
  table: string;
  migrations: readonly string[];
}

const CORE_MIGRATIONS: MigrationTrack = {
  name: 'schema',
  table: 'schema_migrations',
  migrations: PG_MIGRATIONS,
};

export interface PgDbOptions {
  /** Connections this process keeps at most (pg's default: 10). */
  maxConnections?: number;
  /**
   * How long the server lets a session sit idle inside a transaction before ending it (default
   * 60 s). A worker's lease is a good bound: one stopped that long is judged dead anyway.
   */
  idleInTransactionMs?: number;
}

export class PgDb {
  /** Single statements straight on the pool: each is its own transaction. */
  readonly sql: PgSql;
  private ending: Promise<void> | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    /** Where it connects: a dedicated connection (LISTEN) opens its own there. */
    readonly url: string,
  ) {
    this.sql = statements((sql, params) =>
      pool.query(sql, params).catch((err: unknown) => {
        throw classified(err);
      }),
    );
  }

  /** Connects to `url` and applies pending migrations. */
  static async open(url: string, options: PgDbOptions = {}): Promise<PgDb> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      types: TYPES,
      application_name: 'kugetsu',
      // A database out of reach fails a call within seconds instead of hanging the daemon.
      connectionTimeoutMillis: 5_000,
      // A process stopped inside a transaction (SIGSTOP, a frozen machine) would hold the queue
      // lock and stall every claimer, on every machine; the server ends such a session.
      idle_in_transaction_session_timeout: options.idleInTransactionMs ?? 60_000,
    });
    // An idle client whose connection breaks (server restart, network) is dropped by the pool,
    // which then emits this; the next query connects afresh. Unheard, it would end the process.
    pool.on('error', () => undefined);
    const db = new PgDb(pool, url);
    try {
      await db.migrate(CORE_MIGRATIONS);
    } catch (err) {
      await db.close();
      throw err;
    }
    return db;
  }

  /** Runs `fn` in one READ COMMITTED transaction. */
  transaction<T>(fn: (tx: PgTx) => Promise<T>): Promise<T> {
    return this.withClient('BEGIN', null, fn);
  }

  /**
   * Runs `fn` in one READ COMMITTED transaction that first takes `lock`. The lock is the first
   * statement and the isolation level is READ COMMITTED, so every statement after it sees all
   * that earlier holders committed (REPEATABLE READ would take its snapshot before the wait).
   */
  locked<T>(lock: LockName, fn: (tx: PgTx) => Promise<T>): Promise<T> {
    return this.withClient('BEGIN', lock, fn);
  }

  /** Runs read-only `fn` on one snapshot: its statements agree with each other. */
  snapshot<T>(fn: (sql: PgSql) => Promise<T>): Promise<T> {
    return this.withClient('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', null, fn);
  }

  close(): Promise<void> {
    this.ending ??= this.pool.end();
    return this.ending;
  }

  /**
   * One transaction on one pooled client. Be VERY careful about which parts of this can throw:
   * the client MUST go back to the pool whatever happens, and a client whose connection failed,
   * or whose ROLLBACK did not go through, is destroyed rather than handed to the next caller
   * in the middle of a transaction.
   */
  private async withClient<T>(
    begin: string,
    lock: LockName | null,
    fn: (tx: PgTx) => Promise<T>,
  ): Promise<T> {
    const client = await this.pool.connect().catch((err: unknown) => {
      throw classified(err);
    });
    let broken: Error | undefined;
    // A checked-out client reports a lost connection as an event as well as by failing its
    // query; unheard, that event would end the process.
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    let open = true;
    const events: PendingEvent[] = [];
    const sql = statements((text, params) => {
      if (!open) throw new Error('statement after its transaction ended');
      return client.query(text, params);
    });
    const tx: PgTx = {
      ...sql,
      insertEvent: (type, taskId, issueRef, data, now) => {
        if (!open) throw new Error('event after its transaction ended');
        events.push({
          type,
          taskId,
          issueRef,
          message: eventText(type, taskId, issueRef ?? 'the PM agent', data),
          data: Object.keys(data).length === 0 ? null : JSON.stringify(data),
          createdAt: now,
        });
      },
    };
    try {
      // One round trip: a simple query of two statements (the keys are constants, not input).
      await client.query(
        lock === null
          ? begin
          : `${begin}; SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${LOCKS[lock]})`,
      );
      const result = await fn(tx);
      if (events.length > 0) await flushEvents(client, events);
      // COMMIT of a transaction a failed statement aborted answers ROLLBACK, not an error.
      const commit = await client.query('COMMIT');
      if (commit.command !== 'COMMIT')
        throw new Error('the transaction was rolled back: one of its statements failed');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken ??=
          rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw classified(err);
    } finally {
      open = false;
      client.off('error', onError);
      client.release(broken);
    }
  }

  /**
   * Applies a track's pending migrations, each in its own transaction under the migrations
   * lock, and records each in the track's table. Processes that start together wait for one
   * another; the later ones find the work done. The core's track runs on `open`; the bot keeps
   * a track of its own (bot/store/postgres-bot-db.ts), so neither's numbers collide.
   */
  async migrate(track: MigrationTrack): Promise<void> {
    const { table, migrations } = track;
    for (;;) {
      const done = await this.locked('migrations', async (tx) => {
        await tx.run(`CREATE TABLE IF NOT EXISTS ${table} (
          version INTEGER PRIMARY KEY,
          applied_at BIGINT NOT NULL)`);
        const current =
          (await tx.get<{ v: number | null }>(`SELECT MAX(version) AS v FROM ${table}`))?.v ?? 0;
        if (current > migrations.length)
          throw new OperationError(
            `the database has ${track.name} version ${current}, newer than this kugetsu (${migrations.length}): upgrade kugetsu`,
          );
        if (current === migrations.length) return true;
        await tx.run(migrations[current] ?? '');
        await tx.run(
          `INSERT INTO ${table} (version, applied_at) VALUES ($1, $2)`,
          current + 1,
          Date.now(),
        );
        return false;
      });
      if (done) return;
    }
  }
}

/**
 * Writes a transaction's events, in the order recorded, as its last statement before COMMIT.
 * Identity values are handed out when rows are inserted, not when they commit: without a lock,
 * event 11 could commit before event 10, and a reader following ids (a sink's cursor, SSE's
 * Last-Event-ID) that saw 11 would skip 10 for good. Under the events lock ids are handed out
 * and committed in one order. Taken last, it is held only for this insert and the COMMIT, and
 * no lock is waited for while it is held, so it joins no deadlock.
 */
async function flushEvents(client: pg.PoolClient, events: readonly PendingEvent[]): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, LOCKS.events]);
  await client.query(
    `INSERT INTO events (type, task_id, issue_ref, message, data, created_at)
       SELECT type, task_id, issue_ref, message, data, created_at
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::jsonb[], $6::bigint[])
         WITH ORDINALITY AS e (type, task_id, issue_ref, message, data, created_at, seq)
       ORDER BY seq`,
    [
      events.map((e) => e.type),
      events.map((e) => e.taskId),
      events.map((e) => e.issueRef),
      events.map((e) => e.message),
      events.map((e) => e.data),
      events.map((e) => e.createdAt),
    ],
  );
}
