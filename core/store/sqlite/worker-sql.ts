/** The statements of several machines on one SQLite file: workers, fences, leases. */
import type { LeaseRecord, WorkerInfo, WorkerRecord } from '../fleet.js';
import type { SqliteDb } from './sqlite-db.js';

export function upsertWorker(db: SqliteDb, worker: WorkerInfo, now: number): void {
  db.run(
    `INSERT INTO workers (name, host, pid, max_agents, last_seen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         max_agents = excluded.max_agents, last_seen = excluded.last_seen`,
    worker.name,
    worker.host,
    worker.pid,
    worker.maxAgents,
    now,
  );
}

export function selectWorkers(db: SqliteDb): WorkerRecord[] {
  return db
    .all<{
      name: string;
      host: string;
      pid: number;
      max_agents: number;
      last_seen: number;
      task_ids: string | null;
    }>(
      `SELECT workers.*, (SELECT group_concat(task_id) FROM slots WHERE slots.worker = workers.name)
         AS task_ids FROM workers ORDER BY name`,
    )
    .map((r) => ({
      name: r.name,
      host: r.host,
      pid: r.pid,
      maxAgents: r.max_agents,
      lastSeen: r.last_seen,
      taskIds: (r.task_ids ?? '')
        .split(',')
        .filter((id) => id !== '')
        .map(Number)
        .sort((a, b) => a - b),
    }));
}

export function countSlotsOf(db: SqliteDb, worker: string): number {
  return (
    db.get<{ n: number }>('SELECT COUNT(*) AS n FROM slots WHERE counts = 1 AND worker = ?', worker)
      ?.n ?? 0
  );
}

/** The next fencing token: one counter for every claim, so tokens only ever grow. */
export function nextFence(db: SqliteDb): number {
  const row = db.get<{ value: number }>(
    `UPDATE counters SET value = value + 1 WHERE name = 'fence' RETURNING value`,
  );
  if (row === undefined) throw new Error('the fence counter is missing');
  return row.value;
}

export function selectSessionWorker(db: SqliteDb, issueRef: string): string | null {
  return (
    db.get<{ worker: string | null }>('SELECT worker FROM sessions WHERE issue_ref = ?', issueRef)
      ?.worker ?? null
  );
}

export function setSessionWorker(db: SqliteDb, issueRef: string, worker: string | null): number {
  return db.run('UPDATE sessions SET worker = ? WHERE issue_ref = ?', worker, issueRef).changes;
}

export function slotHoldsFence(db: SqliteDb, taskId: number, fence: number): boolean {
  return db.get('SELECT 1 FROM slots WHERE task_id = ? AND fence = ?', taskId, fence) !== undefined;
}

export function sessionSlotHoldsFence(db: SqliteDb, issueRef: string, fence: number): boolean {
  return (
    db.get(
      `SELECT 1 FROM slots JOIN tasks ON tasks.id = slots.task_id
         WHERE tasks.issue_ref = ? AND slots.fence = ?`,
      issueRef,
      fence,
    ) !== undefined
  );
}

export function selectTaskIdsOfWorker(db: SqliteDb, worker: string): number[] {
  return db
    .all<{ task_id: number }>('SELECT task_id FROM slots WHERE worker = ? ORDER BY task_id', worker)
    .map((r) => r.task_id);
}

/** Tasks whose slots another worker holds: not this machine's to judge by pid. */
export function selectTaskIdsOfOthers(db: SqliteDb, worker: string): number[] {
  return db
    .all<{ task_id: number }>(
      'SELECT task_id FROM slots WHERE worker IS NOT NULL AND worker <> ? ORDER BY task_id',
      worker,
    )
    .map((r) => r.task_id);
}

export function selectLease(db: SqliteDb, name: string): LeaseRecord | null {
  const row = db.get<{ holder: string; expires_at: number }>(
    'SELECT holder, expires_at FROM leases WHERE name = ?',
    name,
  );
  return row === undefined ? null : { holder: row.holder, expiresAt: row.expires_at };
}

export function upsertLease(db: SqliteDb, name: string, lease: LeaseRecord): void {
  db.run(
    `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`,
    name,
    lease.holder,
    lease.expiresAt,
  );
}

export function deleteLeaseOf(db: SqliteDb, name: string, holder: string): void {
  db.run('DELETE FROM leases WHERE name = ? AND holder = ?', name, holder);
}
