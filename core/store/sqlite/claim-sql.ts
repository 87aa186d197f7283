/** The statements a claim reads the head of the queue with, and records why tasks wait. */
import type { PageRequest, PendingRow } from '../claim-window.js';
import type { SqliteDb } from './sqlite-db.js';

/** One page of pending tasks of a kind, in claim order, with where their worktree lives. */
export function selectPendingPage(db: SqliteDb, page: PageRequest): PendingRow[] {
  return db
    .all<
      Omit<PendingRow, 'issueRef' | 'notBefore' | 'waitReason'> & {
        issue_ref: string | null;
        not_before: number | null;
        wait_reason: string | null;
      }
    >(
      `SELECT tasks.id, tasks.kind, tasks.issue_ref, tasks.not_before, tasks.wait_reason,
         sessions.worker AS sessionWorker, workers.last_seen AS workerLastSeen
         FROM tasks
         LEFT JOIN sessions ON sessions.issue_ref = tasks.issue_ref
         LEFT JOIN workers ON workers.name = sessions.worker
         WHERE tasks.state = 'pending' AND tasks.kind = ? AND tasks.id > ?
         ORDER BY tasks.id LIMIT ?`,
      page.kind,
      page.afterId,
      page.limit,
    )
    .map((r) => ({
      id: r.id,
      kind: r.kind,
      issueRef: r.issue_ref,
      notBefore: r.not_before,
      waitReason: r.wait_reason,
      sessionWorker: r.sessionWorker,
      workerLastSeen: r.workerLastSeen,
    }));
}

/**
 * Why each task waits (null: it no longer does), all in one statement: one UPDATE each made a
 * claim that changed hundreds of reasons take 0.2–0.5 s.
 */
export function setWaitReasons(
  db: SqliteDb,
  reasons: readonly { id: number; reason: string | null }[],
): void {
  if (reasons.length === 0) return;
  db.run(
    `UPDATE tasks SET wait_reason = r.reason
       FROM (SELECT value ->> '$[0]' AS id, value ->> '$[1]' AS reason FROM json_each(?)) AS r
       WHERE tasks.id = r.id`,
    JSON.stringify(reasons.map((r) => [r.id, r.reason])),
  );
}

/**
 * Forgets the reasons recorded for tasks of `kind` past `afterId`, which this claim did not
 * read: they were true when an earlier claim read further and may not be now. Only the rows
 * that hold one are touched (the partial index `tasks_pending_reasons`).
 */
export function clearReasonsBeyond(db: SqliteDb, kind: string, afterId: number): void {
  db.run(
    `UPDATE tasks SET wait_reason = NULL
       WHERE state = 'pending' AND wait_reason IS NOT NULL AND kind = ? AND id > ?`,
    kind,
    afterId,
  );
}
