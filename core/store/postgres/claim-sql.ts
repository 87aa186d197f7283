/** The statements a claim reads the head of the queue with, and records why tasks wait. */
import type { TaskKind } from '../../domain.js';
import type { PageRequest, PendingRow } from '../claim-window.js';
import type { PgSql } from './pg-db.js';

/**
 * What the dispatch planner needs besides the queue, in one statement (the claim runs under the
 * queue lock, so every round trip saved is saved for every claimer waiting): the dev-agent slots
 * held and the running tasks, a few at most.
 */
export async function selectPlanInputs(sql: PgSql): Promise<{
  slotsHeld: number;
  running: { kind: TaskKind; issueRef: string | null }[];
}> {
  const rows = await sql.all<{
    slots_held: number;
    kind: TaskKind | null;
    issue_ref: string | null;
  }>(
    `SELECT held.slots_held, t.kind, t.issue_ref
       FROM (SELECT COUNT(*) AS slots_held FROM slots WHERE counts) held
       LEFT JOIN (SELECT kind, issue_ref FROM tasks WHERE state = 'running') t ON true`,
  );
  return {
    slotsHeld: rows[0]?.slots_held ?? 0,
    running: rows.flatMap((r) =>
      r.kind === null ? [] : [{ kind: r.kind, issueRef: r.issue_ref }],
    ),
  };
}

/**
 * One page of pending tasks of a kind, in claim order, with where their worktree lives. Ordered
 * as the partial index `tasks_pending` is (the kind is one value, so this is id order): walking
 * the primary key instead and filtering would step over every finished task before the queue.
 */
export async function selectPendingPage(sql: PgSql, page: PageRequest): Promise<PendingRow[]> {
  const rows = await sql.all<{
    id: number;
    kind: TaskKind;
    issue_ref: string | null;
    not_before: number | null;
    wait_reason: string | null;
    worker: string | null;
    last_seen: number | null;
  }>(
    `SELECT tasks.id, tasks.kind, tasks.issue_ref, tasks.not_before, tasks.wait_reason,
       sessions.worker, workers.last_seen
       FROM tasks
       LEFT JOIN sessions ON sessions.issue_ref = tasks.issue_ref
       LEFT JOIN workers ON workers.name = sessions.worker
       WHERE tasks.state = 'pending' AND tasks.kind = $1 AND tasks.id > $2
       ORDER BY tasks.kind, tasks.id LIMIT $3`,
    page.kind,
    page.afterId,
    page.limit,
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    issueRef: r.issue_ref,
    notBefore: r.not_before,
    waitReason: r.wait_reason,
    sessionWorker: r.worker,
    workerLastSeen: r.last_seen,
  }));
}

/** Why each task waits (null: it no longer does), all in one statement. */
export async function setWaitReasons(
  sql: PgSql,
  reasons: readonly { id: number; reason: string | null }[],
): Promise<void> {
  if (reasons.length === 0) return;
  await sql.run(
    `UPDATE tasks SET wait_reason = r.reason
       FROM unnest($1::bigint[], $2::text[]) AS r (id, reason) WHERE tasks.id = r.id`,
    reasons.map((r) => r.id),
    reasons.map((r) => r.reason),
  );
}

/**
 * Forgets the reasons recorded for tasks of `kind` past `afterId`, which this claim did not
 * read: they were true when an earlier claim read further and may not be now. Only the rows
 * that hold one are touched (the partial index `tasks_pending_reasons`).
 */
export async function clearReasonsBeyond(sql: PgSql, kind: string, afterId: number): Promise<void> {
  await sql.run(
    `UPDATE tasks SET wait_reason = NULL
       WHERE state = 'pending' AND wait_reason IS NOT NULL AND kind = $1 AND id > $2`,
    kind,
    afterId,
  );
}
