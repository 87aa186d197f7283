/** What only the SQLite store has: its file's journal mode and schema version. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../core/store/migrations.js';
import { SqliteDb } from '../core/store/sqlite/sqlite-db.js';
import { SqliteStore } from '../core/store/sqlite/sqlite-store.js';

describe('SQLite database file', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens in WAL mode with the schema migrated, and reopens without re-migrating', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-sqlite-'));
    const file = join(dir, 'kugetsu.db');
    const db = SqliteDb.open(file);
    expect(db.raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    await new SqliteStore(db).meta.set('kept', 'yes');
    db.close();
    const again = SqliteDb.open(file);
    expect(again.raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(await new SqliteStore(again).meta.get('kept')).toBe('yes');
    again.close();
  });

  it('refuses a file from a newer kugetsu, naming both versions', () => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-sqlite-'));
    const file = join(dir, 'kugetsu.db');
    const db = SqliteDb.open(file);
    db.raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => SqliteDb.open(file)).toThrow(
      `kugetsu.db has schema version ${MIGRATIONS.length + 1}, newer than this kugetsu (${MIGRATIONS.length}): upgrade kugetsu`,
    );
  });
});
