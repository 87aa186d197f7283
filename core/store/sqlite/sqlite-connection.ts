/**
 * A connection to a home's SQLite file as every store on it needs one: WAL mode and a busy
 * timeout (the daemon, the CLI and the bot write the same file), statements prepared once per
 * SQL text, BEGIN IMMEDIATE transactions, and numbered migrations recorded by a version counter.
 */
import type Database from 'better-sqlite3';
import type { RunResult, Statement } from 'better-sqlite3';
import { createRequire } from 'node:module';
import { OperationError } from '../../errors.js';

// Required, not imported: an ESM import of a CommonJS package first has Node parse its source
// for export names, which every `kugetsu` command opening the store paid at start-up.
const load = createRequire(import.meta.url);
const Sqlite = load('better-sqlite3') as typeof Database;

/**
 * The addon where npm builds or unpacks it, or undefined to let better-sqlite3 search for it
 * itself (its `bindings` helper stats a dozen candidate paths on every start).
 */
function builtAddon(): string | undefined {
  try {
    return load.resolve('better-sqlite3/build/Release/better_sqlite3.node');
  } catch {
    return undefined;
  }
}

export interface SchemaVersion {
  /** Names the schema in errors: "schema", "bot schema". */
  name: string;
  read(): number;
  write(version: number): void;
  /** Runs after each migration, inside its transaction; throws to roll it back. */
  verify?(version: number): void;
}

export class SqliteConnection {
  // Prepared once per SQL text: re-preparing on every call churns native statement objects
  // that a long-lived daemon would otherwise accumulate until the GC gets to them.
  private readonly statements = new Map<string, Statement>();

  protected constructor(readonly raw: Database.Database) {}

  /** Opens the file with the pragmas every connection to a home shares. */
  protected static connect(file: string, options: { mustExist: boolean }): Database.Database {
    const addon = builtAddon();
    const raw = new Sqlite(file, {
      fileMustExist: options.mustExist,
      ...(addon === undefined ? {} : { nativeBinding: addon }),
    });
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 10000');
    raw.pragma('synchronous = NORMAL');
    return raw;
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

  close(): void {
    if (this.raw.open) this.raw.close();
  }

  /**
   * Applies the migrations past the recorded version, one transaction each. Several processes
   * may open a new home at once: each re-reads the version under the lock, so every migration
   * runs once. A database newer than this kugetsu is refused, not downgraded.
   */
  protected migrate(migrations: readonly string[], version: SchemaVersion): void {
    const current = version.read();
    if (current > migrations.length) {
      throw new OperationError(
        `kugetsu.db has ${version.name} version ${current}, newer than this kugetsu (${migrations.length}): upgrade kugetsu`,
      );
    }
    for (let next = current; next < migrations.length; next += 1) {
      this.immediate(() => {
        if (version.read() > next) return;
        this.raw.exec(migrations[next] ?? '');
        version.verify?.(next + 1);
        version.write(next + 1);
      });
    }
  }
}
