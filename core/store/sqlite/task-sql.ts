/** The task table's statements, one function each. */
import type { Task, TaskAttachment, TaskKind } from '../../domain.js';
import { OperationError } from '../../errors.js';
import { toTask, type TaskRow } from '../task-rows.js';
import type { TaskChange } from '../settle.js';
import type { NewSession, NewTask } from '../records.js';
import type { TaskFilter } from '../store-interface.js';
import type { SqliteDb } from './sqlite-db.js';

/** Usage summed over the runs a query selects, as JSON, or NULL when none reported any. */
export const USAGE_JSON = `CASE WHEN COUNT(runs.input_tokens) = 0 THEN NULL ELSE json_object(
    'inputTokens', SUM(COALESCE(runs.input_tokens, 0)),
    'outputTokens', SUM(COALESCE(runs.output_tokens, 0)),
    'cacheReadTokens', SUM(COALESCE(runs.cache_read_tokens, 0)),
    'cacheWriteTokens', SUM(COALESCE(runs.cache_write_tokens, 0)),
    'costUsd', SUM(runs.cost_usd)) END`;

/** Task columns plus the usage summed over its runs (one indexed subquery per row). */
const TASK_COLUMNS = `tasks.*,
  (SELECT ${USAGE_JSON} FROM runs WHERE runs.task_id = tasks.id) AS usage_json`;

export function insertTask(db: SqliteDb, task: NewTask, now: number): number {
  const info = db.run(
    `INSERT INTO tasks (kind, mode, issue_ref, message, agent, model, state, max_attempts, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    task.kind,
    task.mode,
    task.issueRef,
    task.message,
    task.agent,
    task.model ?? null,
    task.maxAttempts,
    now,
  );
  return Number(info.lastInsertRowid);
}

export function insertAttachment(
  db: SqliteDb,
  taskId: number,
  seq: number,
  a: TaskAttachment,
): void {
  db.run(
    'INSERT INTO task_attachments (task_id, seq, name, path, mime, size) VALUES (?, ?, ?, ?, ?, ?)',
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
 * this statement does not hide (OR IGNORE did, queueing the task without its session): the
 * enqueue fails with nothing written.
 */
export function insertSessionIfMissing(db: SqliteDb, session: NewSession, now: number): void {
  db.run(
    `INSERT INTO sessions (issue_ref, workspace_key, server_name, repo_path,
       worktree_path, branch, state, agent, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'idle', ?, ?, ?)
       ON CONFLICT (issue_ref) DO NOTHING`,
    session.issueRef,
    session.workspaceKey,
    session.serverName,
    session.repoPath,
    session.worktreePath,
    session.branch,
    session.agent,
    now,
    now,
  );
}

export function selectTask(db: SqliteDb, id: number): Task | null {
  const row = db.get<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`, id);
  return row === undefined ? null : toTask(row);
}

export function mustSelectTask(db: SqliteDb, id: number): Task {
  const task = selectTask(db, id);
  if (task === null) throw new OperationError(`task ${id} not found`);
  return task;
}

export function selectTasks(db: SqliteDb, filter: TaskFilter): Task[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.states !== undefined && filter.states.length > 0) {
    where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
    params.push(...filter.states);
  }
  if (filter.issueRef !== undefined) {
    where.push('issue_ref = ?');
    params.push(filter.issueRef);
  }
  const sql = `SELECT ${TASK_COLUMNS} FROM tasks ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY id ${filter.limit !== undefined ? `LIMIT ${Math.trunc(filter.limit)}` : ''}`;
  return db.all<TaskRow>(sql, ...params).map(toTask);
}

/** What the dispatch planner needs of running tasks: no more columns than that. */
export function selectRunningForPlan(db: SqliteDb): { kind: TaskKind; issueRef: string | null }[] {
  return db
    .all<{ kind: TaskKind; issue_ref: string | null }>(
      `SELECT kind, issue_ref FROM tasks WHERE state = 'running'`,
    )
    .map((r) => ({ kind: r.kind, issueRef: r.issue_ref }));
}

export function markRunning(db: SqliteDb, id: number, now: number): void {
  db.run(
    `UPDATE tasks SET state = 'running', attempts = attempts + 1, started_at = ?,
       wait_reason = NULL, not_before = NULL WHERE id = ?`,
    now,
    id,
  );
}

export function selectLatestTaskFor(db: SqliteDb, issueRef: string): Task | null {
  const row = db.get<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM tasks WHERE issue_ref = ?
       ORDER BY (state = 'running') DESC, id DESC LIMIT 1`,
    issueRef,
  );
  return row === undefined ? null : toTask(row);
}

export function selectAttachments(db: SqliteDb, taskId: number): TaskAttachment[] {
  return db.all<TaskAttachment>(
    'SELECT name, path, mime, size FROM task_attachments WHERE task_id = ? ORDER BY seq',
    taskId,
  );
}

export function selectAttachmentPaths(db: SqliteDb): string[] {
  return db.all<{ path: string }>('SELECT path FROM task_attachments').map((r) => r.path);
}

export function countTasksByState(db: SqliteDb): { state: string; n: number }[] {
  return db.all('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state');
}

export function markCancelledBeforeRun(db: SqliteDb, id: number, now: number): void {
  db.run(
    `UPDATE tasks SET state = 'cancelled', finished_at = ?, wait_reason = NULL WHERE id = ?`,
    now,
    id,
  );
}

export function markCancelRequested(db: SqliteDb, id: number): void {
  db.run('UPDATE tasks SET cancel_requested = 1 WHERE id = ?', id);
}

export function requeueWithFreshAttempts(db: SqliteDb, id: number): void {
  db.run(
    `UPDATE tasks SET state = 'pending', attempts = 0, not_before = NULL, last_error = NULL,
       cancel_requested = 0, finished_at = NULL, wait_reason = NULL WHERE id = ?`,
    id,
  );
}

export function selectFinishedBefore(db: SqliteDb, before: number): number[] {
  return db
    .all<{ id: number }>(
      `SELECT id FROM tasks WHERE state IN ('completed', 'needs_input', 'error', 'cancelled')
         AND COALESCE(finished_at, created_at) < ?`,
      before,
    )
    .map((r) => r.id);
}

/** Runs, approvals and attachments go with it (foreign keys); events are not keyed to tasks. */
export function deleteTaskAndEvents(db: SqliteDb, id: number): void {
  db.run('DELETE FROM events WHERE task_id = ?', id);
  db.run('DELETE FROM tasks WHERE id = ?', id);
}

/** Writes what `settle` decided; an undefined field keeps its column. */
export function applyTaskChange(db: SqliteDb, id: number, change: TaskChange): void {
  const sets: string[] = ['state = ?'];
  const params: unknown[] = [change.state];
  const column = (name: string, value: unknown): void => {
    if (value === undefined) return;
    sets.push(`${name} = ?`);
    params.push(value);
  };
  column('result', change.result);
  column('last_error', change.lastError);
  column('finished_at', change.finishedAt);
  column('not_before', change.notBefore);
  column('mode', change.mode);
  column('attempts', change.attempts);
  db.run(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ?`, ...params, id);
}

export function markKeySeen(db: SqliteDb, key: string, taskId: number | null, now: number): void {
  db.run('INSERT INTO intake_seen (key, task_id, seen_at) VALUES (?, ?, ?)', key, taskId, now);
}

export function keySeen(db: SqliteDb, key: string): boolean {
  return db.get('SELECT 1 FROM intake_seen WHERE key = ?', key) !== undefined;
}
