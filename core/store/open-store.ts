/**
 * Which implementation of the Store seam a home uses: its own SQLite file, or the PostgreSQL
 * database KUGETSU_DATABASE_URL names, shared with the other workers of a fleet.
 */
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { HomePaths } from '../home.js';
import { SqliteDb } from './sqlite/sqlite-db.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { StoreApi } from './store-interface.js';

/** This machine among the workers of a shared database: its name, lease and the caps. */
export interface FleetMembership {
  worker: string;
  leaseMs: number;
  globalMaxAgents: number | undefined;
  /** Calls `onWake` whenever any worker makes work claimable (LISTEN/NOTIFY). */
  onWake(onWake: () => void): Promise<{ close(): Promise<void> }>;
}

export function workerNameOf(config: Pick<Config, 'workerName'>): string {
  // A host name may hold characters a worker name may not; the setting is checked, this is not.
  return (
    config.workerName ??
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 63)
  );
}

export async function openStore(
  paths: HomePaths,
  config: Config,
): Promise<{ store: StoreApi; fleet: FleetMembership | null }> {
  const url = config.databaseUrl;
  if (url === undefined) return { store: new SqliteStore(SqliteDb.open(paths.db)), fleet: null };
  const worker = workerNameOf(config);
  // Loaded only for a shared database: pg's module graph is most of what a SQLite home's
  // `kugetsu list` would otherwise spend starting up (docs/benchmarks.md).
  const { openPostgresStore } = await import('./postgres/postgres-store.js');
  // A worker frozen inside a transaction holds the queue lock for all: it is let go once it
  // would be judged dead, though never so soon that a slow machine's transactions are cut.
  const idleInTransactionMs = Math.max(config.workerLeaseMs, 5_000);
  const store = await openPostgresStore(url, { worker, idleInTransactionMs });
  return {
    store,
    fleet: {
      worker,
      leaseMs: config.workerLeaseMs,
      globalMaxAgents: config.globalMaxAgents,
      onWake: (onWake) => store.onWake(onWake),
    },
  };
}

/** The password of a database URL: a secret the scrubber must know. */
export function databasePassword(url: string | undefined): string | null {
  if (url === undefined || !URL.canParse(url)) return null;
  const password = decodeURIComponent(new URL(url).password);
  return password === '' ? null : password;
}
