/** The runs and slots tables' statements on PostgreSQL, one function each. */
import type { TaskKind, TaskMode, Usage } from '../../domain.js';
import type { ProcessIdentity } from '../../process-info.js';
import { toRun, type RunRecord, type RunRow } from '../task-rows.js';
import type { SlotRecord } from '../records.js';
import type { PgSql } from './pg-db.js';
import { pgSlot, type PgSlotRow } from './pg-rows.js';

export async function insertRun(
  sql: PgSql,
  taskId: number,
  attempt: number,
  mode: TaskMode,
  transcript: string,
  now: number,
): Promise<number> {
  const row = await sql.get<{ id: number }>(
    `INSERT INTO runs (task_id, attempt, mode, transcript, started_at)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    taskId,
    attempt,
    mode,
    transcript,
    now,
  );
  if (row === undefined) throw new Error('INSERT … RETURNING gave no row');
  return row.id;
}

export async function setRunPid(sql: PgSql, runId: number, pid: number): Promise<void> {
  await sql.run('UPDATE runs SET pid = $2 WHERE id = $1', runId, pid);
}

export async function setRunUsage(sql: PgSql, runId: number, usage: Usage): Promise<void> {
  await sql.run(
    `UPDATE runs SET input_tokens = $2, output_tokens = $3, cache_read_tokens = $4,
       cache_write_tokens = $5, cost_usd = $6 WHERE id = $1`,
    runId,
    usage.inputTokens,
    usage.outputTokens,
    usage.cacheReadTokens,
    usage.cacheWriteTokens,
    usage.costUsd,
  );
}

export async function finishRun(
  sql: PgSql,
  runId: number,
  exitCode: number | null,
  outcome: string,
  now: number,
): Promise<void> {
  await sql.run(
    'UPDATE runs SET finished_at = $2, exit_code = $3, outcome = $4 WHERE id = $1',
    runId,
    now,
    exitCode,
    outcome,
  );
}

export async function sumBudgetTokensSince(sql: PgSql, since: number): Promise<number> {
  const row = await sql.get<{ n: number }>(
    `SELECT COALESCE(SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)
       + COALESCE(cache_write_tokens, 0)), 0)::bigint AS n FROM runs WHERE started_at >= $1`,
    since,
  );
  return row?.n ?? 0;
}

export async function selectRuns(sql: PgSql, taskId: number): Promise<RunRecord[]> {
  const rows = await sql.all<RunRow>('SELECT * FROM runs WHERE task_id = $1 ORDER BY id', taskId);
  return rows.map(toRun);
}

export async function selectLatestRuns(
  sql: PgSql,
  limit: number,
): Promise<(RunRecord & { issueRef: string | null })[]> {
  const rows = await sql.all<RunRow & { issue_ref: string | null }>(
    `SELECT runs.*, tasks.issue_ref FROM runs JOIN tasks ON tasks.id = runs.task_id
       ORDER BY runs.id DESC LIMIT $1`,
    Math.trunc(limit),
  );
  return rows.map((r) => ({ ...toRun(r), issueRef: r.issue_ref }));
}

export async function countCountedSlots(sql: PgSql): Promise<number> {
  return (await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM slots WHERE counts'))?.n ?? 0;
}

/** Inserts a claim's slot with the next fencing token, which it returns. */
export async function insertSlot(
  sql: PgSql,
  taskId: number,
  kind: TaskKind,
  owner: ProcessIdentity,
  worker: string | null,
  now: number,
): Promise<number> {
  const row = await sql.get<{ fence: number }>(
    `INSERT INTO slots (task_id, counts, owner_pid, owner_start, worker, fence, claimed_at)
       VALUES ($1, $2, $3, $4, $5, nextval('claim_fences'), $6) RETURNING fence`,
    taskId,
    kind === 'dev',
    owner.pid,
    owner.start,
    worker,
    now,
  );
  if (row === undefined) throw new Error('INSERT … RETURNING gave no row');
  return row.fence;
}

export async function deleteSlot(sql: PgSql, taskId: number): Promise<void> {
  await sql.run('DELETE FROM slots WHERE task_id = $1', taskId);
}

export async function setSlotAgent(
  sql: PgSql,
  taskId: number,
  agent: ProcessIdentity,
): Promise<void> {
  await sql.run(
    'UPDATE slots SET agent_pid = $2, agent_start = $3 WHERE task_id = $1',
    taskId,
    agent.pid,
    agent.start,
  );
}

export async function selectSlots(sql: PgSql): Promise<SlotRecord[]> {
  const rows = await sql.all<PgSlotRow>('SELECT * FROM slots ORDER BY task_id');
  return rows.map(pgSlot);
}
