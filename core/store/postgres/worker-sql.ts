/** The statements of several machines on one PostgreSQL database: workers, fences, leases. */
import type { LeaseRecord, WorkerInfo, WorkerRecord } from '../fleet.js';
import type { PgSql } from './pg-db.js';

export async function upsertWorker(sql: PgSql, worker: WorkerInfo, now: number): Promise<void> {
  await sql.run(
    `INSERT INTO workers (name, host, pid, max_agents, last_seen) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         max_agents = excluded.max_agents, last_seen = excluded.last_seen`,
    worker.name,
    worker.host,
    worker.pid,
    worker.maxAgents,
    now,
  );
}

export async function selectWorkers(sql: PgSql): Promise<WorkerRecord[]> {
  const rows = await sql.all<{
    name: string;
    host: string;
    pid: number;
    max_agents: number;
    last_seen: number;
    task_ids: number[];
  }>(
    `SELECT workers.*, ARRAY(SELECT task_id FROM slots WHERE slots.worker = workers.name
         ORDER BY task_id)::int[] AS task_ids
       FROM workers ORDER BY name`,
  );
  return rows.map((r) => ({
    name: r.name,
    host: r.host,
    pid: r.pid,
    maxAgents: r.max_agents,
    lastSeen: r.last_seen,
    taskIds: r.task_ids,
  }));
}

export async function countSlotsOf(sql: PgSql, worker: string): Promise<number> {
  const row = await sql.get<{ n: number }>(
    'SELECT COUNT(*) AS n FROM slots WHERE counts AND worker = $1',
    worker,
  );
  return row?.n ?? 0;
}

export async function selectSessionWorker(sql: PgSql, issueRef: string): Promise<string | null> {
  const row = await sql.get<{ worker: string | null }>(
    'SELECT worker FROM sessions WHERE issue_ref = $1',
    issueRef,
  );
  return row?.worker ?? null;
}

export function setSessionWorker(
  sql: PgSql,
  issueRef: string,
  worker: string | null,
): Promise<number> {
  return sql.run('UPDATE sessions SET worker = $2 WHERE issue_ref = $1', issueRef, worker);
}

export async function slotHoldsFence(sql: PgSql, taskId: number, fence: number): Promise<boolean> {
  const row = await sql.get('SELECT 1 FROM slots WHERE task_id = $1 AND fence = $2', taskId, fence);
  return row !== undefined;
}

/**
 * Whether a claim of the session's task still holds `fence`. The slot row is locked FOR SHARE,
 * so a recovery that would delete it waits for this transaction: what is written under the
 * check is written while the claim holds.
 */
export async function sessionSlotHoldsFence(
  sql: PgSql,
  issueRef: string,
  fence: number,
): Promise<boolean> {
  const row = await sql.get(
    `SELECT 1 FROM slots JOIN tasks ON tasks.id = slots.task_id
       WHERE tasks.issue_ref = $1 AND slots.fence = $2 FOR SHARE OF slots`,
    issueRef,
    fence,
  );
  return row !== undefined;
}

export async function selectTaskIdsOfWorker(sql: PgSql, worker: string): Promise<number[]> {
  const rows = await sql.all<{ task_id: number }>(
    'SELECT task_id FROM slots WHERE worker = $1 ORDER BY task_id',
    worker,
  );
  return rows.map((r) => r.task_id);
}

/** Tasks whose slots another worker holds: not this machine's to judge by pid. */
export async function selectTaskIdsOfOthers(sql: PgSql, worker: string): Promise<number[]> {
  const rows = await sql.all<{ task_id: number }>(
    'SELECT task_id FROM slots WHERE worker IS NOT NULL AND worker <> $1 ORDER BY task_id',
    worker,
  );
  return rows.map((r) => r.task_id);
}

export async function selectLease(sql: PgSql, name: string): Promise<LeaseRecord | null> {
  const row = await sql.get<{ holder: string; expires_at: number }>(
    'SELECT holder, expires_at FROM leases WHERE name = $1',
    name,
  );
  return row === undefined ? null : { holder: row.holder, expiresAt: row.expires_at };
}

export async function upsertLease(sql: PgSql, name: string, lease: LeaseRecord): Promise<void> {
  await sql.run(
    `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`,
    name,
    lease.holder,
    lease.expiresAt,
  );
}

export async function deleteLeaseOf(sql: PgSql, name: string, holder: string): Promise<void> {
  await sql.run('DELETE FROM leases WHERE name = $1 AND holder = $2', name, holder);
}
