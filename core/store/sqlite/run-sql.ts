/** The runs and slots tables' statements, one function each. */
import type { TaskKind, TaskMode, Usage } from '../../domain.js';
import type { ProcessIdentity } from '../../process-info.js';
import { toRun, type RunRecord, type RunRow, type SlotRow } from '../task-rows.js';
import type { SlotRecord } from '../records.js';
import type { SqliteDb } from './sqlite-db.js';

export function insertRun(
  db: SqliteDb,
  taskId: number,
  attempt: number,
  mode: TaskMode,
  transcript: string,
  now: number,
): number {
  const info = db.run(
    'INSERT INTO runs (task_id, attempt, mode, transcript, started_at) VALUES (?, ?, ?, ?, ?)',
    taskId,
    attempt,
    mode,
    transcript,
    now,
  );
  return Number(info.lastInsertRowid);
}

export function setRunPid(db: SqliteDb, runId: number, pid: number): void {
  db.run('UPDATE runs SET pid = ? WHERE id = ?', pid, runId);
}

export function setRunUsage(db: SqliteDb, runId: number, usage: Usage): void {
  db.run(
    `UPDATE runs SET input_tokens = ?, output_tokens = ?, cache_read_tokens = ?,
       cache_write_tokens = ?, cost_usd = ? WHERE id = ?`,
    usage.inputTokens,
    usage.outputTokens,
    usage.cacheReadTokens,
    usage.cacheWriteTokens,
    usage.costUsd,
    runId,
  );
}

export function finishRun(
  db: SqliteDb,
  runId: number,
  exitCode: number | null,
  outcome: string,
  now: number,
): void {
  db.run(
    'UPDATE runs SET finished_at = ?, exit_code = ?, outcome = ? WHERE id = ?',
    now,
    exitCode,
    outcome,
    runId,
  );
}

export function sumBudgetTokensSince(db: SqliteDb, since: number): number {
  const row = db.get<{ n: number }>(
    `SELECT COALESCE(SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)
       + COALESCE(cache_write_tokens, 0)), 0) AS n FROM runs WHERE started_at >= ?`,
    since,
  );
  return row?.n ?? 0;
}

export function selectRuns(db: SqliteDb, taskId: number): RunRecord[] {
  return db.all<RunRow>('SELECT * FROM runs WHERE task_id = ? ORDER BY id', taskId).map(toRun);
}

export function selectLatestRuns(
  db: SqliteDb,
  limit: number,
): (RunRecord & { issueRef: string | null })[] {
  return db
    .all<RunRow & { issue_ref: string | null }>(
      `SELECT runs.*, tasks.issue_ref FROM runs JOIN tasks ON tasks.id = runs.task_id
         ORDER BY runs.id DESC LIMIT ?`,
      limit,
    )
    .map((r) => ({ ...toRun(r), issueRef: r.issue_ref }));
}

export function countCountedSlots(db: SqliteDb): number {
  return db.get<{ n: number }>('SELECT COUNT(*) AS n FROM slots WHERE counts = 1')?.n ?? 0;
}

export function insertSlot(
  db: SqliteDb,
  taskId: number,
  kind: TaskKind,
  owner: ProcessIdentity,
  holder: { worker: string | null; fence: number },
  now: number,
): void {
  db.run(
    `INSERT INTO slots (task_id, counts, owner_pid, owner_start, worker, fence, claimed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    taskId,
    kind === 'dev' ? 1 : 0,
    owner.pid,
    owner.start,
    holder.worker,
    holder.fence,
    now,
  );
}

export function deleteSlot(db: SqliteDb, taskId: number): void {
  db.run('DELETE FROM slots WHERE task_id = ?', taskId);
}

export function setSlotAgent(db: SqliteDb, taskId: number, agent: ProcessIdentity): void {
  db.run(
    'UPDATE slots SET agent_pid = ?, agent_start = ? WHERE task_id = ?',
    agent.pid,
    agent.start,
    taskId,
  );
}

export function selectSlots(db: SqliteDb): SlotRecord[] {
  return db.all<SlotRow>('SELECT * FROM slots ORDER BY task_id').map((r) => ({
    taskId: r.task_id,
    counts: r.counts === 1,
    owner: { pid: r.owner_pid, start: r.owner_start },
    agent: r.agent_pid === null ? null : { pid: r.agent_pid, start: r.agent_start ?? '' },
    claimedAt: r.claimed_at,
  }));
}
