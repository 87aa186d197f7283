/**
 * The approvals table. A row is written with its `approval_requested` event in one transaction,
 * and resolved by a conditional update, so of two answers arriving together exactly one wins and
 * the other learns who answered first.
 */
import type { Statement } from 'better-sqlite3';
import type {
  Approval,
  ApprovalAnswer,
  ApprovalRequest,
  PolicyCategory,
} from '../approvals/approval.js';
import type { EventData, EventType } from '../domain.js';
import { OperationError } from '../errors.js';
import {
  closingAnswer,
  requestedEventData,
  resolutionOf,
  resolvedEventData,
  type ApprovalResolution,
} from './approval-transitions.js';
import { toApproval, type ApprovalRow } from './approval-rows.js';

/** What the store lends its area modules: statements, transactions, events. */
export interface StoreInternals {
  stmt(sql: string): Statement;
  immediate<T>(fn: () => T): T;
  /** Records an event; its text is made from its data. */
  insertEvent(
    type: EventType,
    taskId: number,
    issueRef: string | null,
    data: EventData,
    now: number,
  ): void;
}

const SELECT = `SELECT approvals.*, tasks.issue_ref FROM approvals JOIN tasks ON tasks.id = approvals.task_id`;

export interface ResolveResult {
  approval: Approval;
  /** False when another answer came first: `approval` then shows that one. */
  won: boolean;
}

export class ApprovalRecords {
  constructor(private readonly s: StoreInternals) {}

  /** Opens a request and records `approval_requested` with it. */
  open(
    taskId: number,
    agent: string,
    request: ApprovalRequest,
    expiresAt: number,
    now = Date.now(),
  ): Approval {
    return this.s.immediate(() => {
      const task = this.s.stmt('SELECT issue_ref FROM tasks WHERE id = ?').get(taskId) as
        { issue_ref: string | null } | undefined;
      if (task === undefined) throw new OperationError(`task ${taskId} not found`);
      const info = this.s
        .stmt(
          `INSERT INTO approvals (task_id, agent, kind, tool, category, subject, reason, options,
             state, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
        )
        .run(
          taskId,
          agent,
          request.kind,
          request.tool,
          request.category,
          request.subject,
          request.reason,
          JSON.stringify(request.options),
          now,
          expiresAt,
        );
      const id = Number(info.lastInsertRowid);
      this.s.insertEvent(
        'approval_requested',
        taskId,
        task.issue_ref,
        requestedEventData(id, request),
        now,
      );
      return this.mustGet(id);
    });
  }

  get(id: number): Approval | null {
    const row = this.s.stmt(`${SELECT} WHERE approvals.id = ?`).get(id) as ApprovalRow | undefined;
    return row === undefined ? null : toApproval(row);
  }

  private mustGet(id: number): Approval {
    const approval = this.get(id);
    if (approval === null) throw new OperationError(`approval ${id} not found`);
    return approval;
  }

  /** Open requests of every task, oldest first; with `all`, resolved ones too (newest 200). */
  list(filter: { all?: boolean; taskId?: number } = {}): Approval[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.all !== true) where.push(`approvals.state = 'open'`);
    if (filter.taskId !== undefined) {
      where.push('approvals.task_id = ?');
      params.push(filter.taskId);
    }
    const sql = `${SELECT} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY approvals.id ${filter.all === true ? 'DESC LIMIT 200' : ''}`;
    const rows = (this.s.stmt(sql).all(...params) as ApprovalRow[]).map(toApproval);
    return filter.all === true ? rows.reverse() : rows;
  }

  /** Whether the task waits for an answer now (its stall clock stands still meanwhile). */
  hasOpen(taskId: number): boolean {
    return (
      this.s
        .stmt(`SELECT 1 FROM approvals WHERE state = 'open' AND task_id = ? LIMIT 1`)
        .get(taskId) !== undefined
    );
  }

  /**
   * Resolves an open request with the first answer; a later one changes nothing. An answer of
   * the wrong kind (a text for a permission) is a usage mistake the caller reports.
   */
  resolve(id: number, answer: ApprovalAnswer, now = Date.now()): ResolveResult {
    return this.s.immediate(() => {
      const current = this.mustGet(id);
      if (current.state !== 'open') return { approval: current, won: false };
      this.write(current, resolutionOf(answer), now);
      if (answer.decision === 'allow' && answer.scope === 'task') {
        this.s
          .stmt(
            'INSERT OR IGNORE INTO approval_grants (task_id, category, approval_id) VALUES (?, ?, ?)',
          )
          .run(current.taskId, current.category, id);
      }
      return { approval: this.mustGet(id), won: true };
    });
  }

  /**
   * Closes whatever a task still waits for (its attempt ended: finished, stopped, crashed). Runs
   * inside the caller's transaction, so the task's end and the closing are one fact.
   */
  closeOpenForTask(taskId: number, reason: string, now: number): void {
    const open = this.list({ taskId });
    for (const approval of open) this.write(approval, resolutionOf(closingAnswer(reason)), now);
  }

  /** Categories allowed for the rest of the task. */
  grants(taskId: number): Set<PolicyCategory> {
    const rows = this.s
      .stmt('SELECT category FROM approval_grants WHERE task_id = ?')
      .all(taskId) as { category: PolicyCategory }[];
    return new Set(rows.map((r) => r.category));
  }

  private write(approval: Approval, resolution: ApprovalResolution, now: number): void {
    const { state, scope, answer, by } = resolution;
    this.s
      .stmt(
        `UPDATE approvals SET state = ?, scope = ?, answer = ?, answered_channel = ?, answered_by = ?,
           resolved_at = ? WHERE id = ? AND state = 'open'`,
      )
      .run(state, scope, answer, by.channel, by.who, now, approval.id);
    const resolved = { ...approval, state, scope, answer, answeredBy: by };
    this.s.insertEvent(
      'approval_resolved',
      approval.taskId,
      approval.issueRef,
      resolvedEventData(resolved),
      now,
    );
  }
}
