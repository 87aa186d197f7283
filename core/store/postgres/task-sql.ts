/** The task table's statements on PostgreSQL, one function each. */
import type { Task, TaskAttachment } from '../../domain.js';
import { OperationError } from '../../errors.js';
import type { TaskChange } from '../settle.js';
import type { NewSession, NewTask } from '../records.js';
import type { TaskFilter } from '../store-interface.js';
import type { PgSql } from './pg-db.js';
import { pgTask, type PgTaskRow } from './pg-rows.js';

/** Usage summed over the runs a query selects, as JSON, or NULL when none reported any. */
export const USAGE_JSON = `CASE WHEN COUNT(runs.input_tokens) = 0 THEN NULL ELSE json_build_object(
    'inputTokens', SUM(COALESCE(runs.input_tokens, 0)),
    'outputTokens', SUM(COALESCE(runs.output_tokens, 0)),
    'cacheReadTokens', SUM(COALESCE(runs.cache_read_tokens, 0)),
    'cacheWriteTokens', SUM(COALESCE(runs.cache_write_tokens, 0)),
    'costUsd', SUM(runs.cost_usd)) END`;

/** Task columns plus the usage summed over its runs (one indexed subquery per row). */
const TASK_COLUMNS = `tasks.*,
  (SELECT ${USAGE_JSON} FROM runs WHERE runs.task_id = tasks.id) AS usage_json`;

const FINISHED = `('completed', 'needs_input', 'error', 'cancelled')`;

export async function insertTask(sql: PgSql, task: NewTask, now: number): Promise<number> {
  const row = await sql.get<{ id: number }>(
    `INSERT INTO tasks (kind, mode, issue_ref, message, agent, model, state, max_attempts, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) RETURNING id`,
    task.kind,
    task.mode,
    task.issueRef,
    task.message,
    task.agent,
    task.model ?? null,
    task.maxAttempts,
    now,
  );
  if (row === undefined) throw new Error('INSERT … RETURNING gave no row');
  return row.id;
}

export async function insertAttachment(
  sql: PgSql,
  taskId: number,
  seq: number,
  a: TaskAttachment,
): Promise<void> {
  await sql.run(
    `INSERT INTO task_attachments (task_id, seq, name, path, mime, size)
       VALUES ($1, $2, $3, $4, $5, $6)`,
    taskId,
    seq,
    a.name,
    a.path,
    a.mime,
    a.size,
  );
}

/**
 * A session already there (same issue) is kept. Another session's workspace key is a conflict
 * this statement does not hide: the enqueue fails with nothing written.
 */
export async function insertSessionIfMissing(
  sql: PgSql,
  session: NewSession,
  now: number,
): Promise<void> {
  await sql.run(
    `INSERT INTO sessions (issue_ref, workspace_key, server_name, repo_path, worktree_path,
       branch, state, agent, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'idle', $7, $8, $8)
       ON CONFLICT (issue_ref) DO NOTHING`,
    session.issueRef,
    session.workspaceKey,
    session.serverName,
    session.repoPath,
    session.worktreePath,
    session.branch,
    session.agent,
    now,
  );
}

export async function selectTask(sql: PgSql, id: number): Promise<Task | null> {
  const row = await sql.get<PgTaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1`, id);
  return row === undefined ? null : pgTask(row);
}

export async function mustSelectTask(sql: PgSql, id: number): Promise<Task> {
  const task = await selectTask(sql, id);
  if (task === null) throw new OperationError(`task ${id} not found`);
  return task;
}

export async function selectTasks(sql: PgSql, filter: TaskFilter): Promise<Task[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.states !== undefined && filter.states.length > 0) {
    params.push(filter.states);
    where.push(`state = ANY($${params.length}::text[])`);
  }
  if (filter.issueRef !== undefined) {
    params.push(filter.issueRef);
    where.push(`issue_ref = $${params.length}`);
  }
  if (filter.limit !== undefined) params.push(Math.trunc(filter.limit));
  const rows = await sql.all<PgTaskRow>(
    `SELECT ${TASK_COLUMNS} FROM tasks ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id ${filter.limit !== undefined ? `LIMIT $${params.length}` : ''}`,
    ...params,
  );
  return rows.map(pgTask);
}

/** The claimed task, as it is now: running, its attempt counted. */
export async function markRunning(sql: PgSql, id: number, now: number): Promise<Task> {
  const row = await sql.get<PgTaskRow>(
    `UPDATE tasks SET state = 'running', attempts = attempts + 1, started_at = $2,
       wait_reason = NULL, not_before = NULL WHERE id = $1 RETURNING ${TASK_COLUMNS}`,
    id,
    now,
  );
  if (row === undefined) throw new OperationError(`task ${id} not found`);
  return pgTask(row);
}

export async function selectLatestTaskFor(sql: PgSql, issueRef: string): Promise<Task | null> {
  const row = await sql.get<PgTaskRow>(
    `SELECT ${TASK_COLUMNS} FROM tasks WHERE issue_ref = $1
       ORDER BY (state = 'running') DESC, id DESC LIMIT 1`,
    issueRef,
  );
  return row === undefined ? null : pgTask(row);
}

export function selectAttachments(sql: PgSql, taskId: number): Promise<TaskAttachment[]> {
  return sql.all<TaskAttachment>(
    'SELECT name, path, mime, size FROM task_attachments WHERE task_id = $1 ORDER BY seq',
    taskId,
  );
}

export async function selectAttachmentPaths(sql: PgSql): Promise<string[]> {
  const rows = await sql.all<{ path: string }>('SELECT path FROM task_attachments');
  return rows.map((r) => r.path);
}

export function countTasksByState(sql: PgSql): Promise<{ state: string; n: number }[]> {
  return sql.all('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state');
}

export async function markCancelledBeforeRun(sql: PgSql, id: number, now: number): Promise<void> {
  await sql.run(
    `UPDATE tasks SET state = 'cancelled', finished_at = $2, wait_reason = NULL WHERE id = $1`,
    id,
    now,
  );
}

export async function markCancelRequested(sql: PgSql, id: number): Promise<void> {
  await sql.run('UPDATE tasks SET cancel_requested = true WHERE id = $1', id);
}

export async function requeueWithFreshAttempts(sql: PgSql, id: number): Promise<void> {
  await sql.run(
    `UPDATE tasks SET state = 'pending', attempts = 0, not_before = NULL, last_error = NULL,
       cancel_requested = false, finished_at = NULL, wait_reason = NULL WHERE id = $1`,
    id,
  );
}

/** Runs, approvals and attachments go with them (foreign keys); events are not keyed to tasks. */
export async function deleteFinishedBefore(sql: PgSql, before: number): Promise<number[]> {
  const rows = await sql.all<{ id: number }>(
    `DELETE FROM tasks WHERE state IN ${FINISHED} AND COALESCE(finished_at, created_at) < $1
       RETURNING id`,
    before,
  );
  return rows.map((r) => r.id);
}

export async function deleteEventsOfTasks(sql: PgSql, taskIds: readonly number[]): Promise<void> {
  if (taskIds.length === 0) return;
  await sql.run('DELETE FROM events WHERE task_id = ANY($1::bigint[])', taskIds);
}

/** Writes what `settle` decided (an undefined field keeps its column); the task as it is now. */
export async function applyTaskChange(sql: PgSql, id: number, change: TaskChange): Promise<Task> {
  const params: unknown[] = [id, change.state];
  const sets: string[] = ['state = $2'];
  const column = (name: string, value: unknown): void => {
    if (value === undefined) return;
    params.push(value);
    sets.push(`${name} = $${params.length}`);
  };
  column('result', change.result);
  column('last_error', change.lastError);
  column('finished_at', change.finishedAt);
  column('not_before', change.notBefore);
  column('mode', change.mode);
  column('attempts', change.attempts);
  const row = await sql.get<PgTaskRow>(
    `UPDATE tasks SET ${sets.join(', ')} WHERE id = $1 RETURNING ${TASK_COLUMNS}`,
    ...params,
  );
  if (row === undefined) throw new OperationError(`task ${id} not found`);
  return pgTask(row);
}

/**
 * Records `key` as seen; false when it already was. Of pollers inserting one key at once, the
 * others wait on the unique index until the first commits (and then insert nothing) or rolls
 * back (and then one of them inserts it).
 */
export async function insertKeyIfUnseen(sql: PgSql, key: string, now: number): Promise<boolean> {
  const inserted = await sql.run(
    `INSERT INTO intake_seen (key, task_id, seen_at) VALUES ($1, NULL, $2)
       ON CONFLICT (key) DO NOTHING`,
    key,
    now,
  );
  return inserted > 0;
}

export async function setKeyTask(sql: PgSql, key: string, taskId: number): Promise<void> {
  await sql.run('UPDATE intake_seen SET task_id = $2 WHERE key = $1', key, taskId);
}
