/**
 * The approvals tables' statements on PostgreSQL, one function each. An answer is one
 * conditional UPDATE: of answers arriving together from several processes, the row lock lets
 * one through and the others find the state no longer `open`.
 */
import type { Approval, ApprovalRequest, PolicyCategory } from '../../approvals/approval.js';
import type { ApprovalResolution } from '../approval-transitions.js';
import { toApproval, type ApprovalRow } from '../approval-rows.js';
import type { PgSql } from './pg-db.js';

const SELECT = `SELECT approvals.*, tasks.issue_ref FROM approvals JOIN tasks ON tasks.id = approvals.task_id`;

export async function insertApproval(
  sql: PgSql,
  taskId: number,
  agent: string,
  request: ApprovalRequest,
  expiresAt: number,
  now: number,
): Promise<number> {
  const row = await sql.get<{ id: number }>(
    `INSERT INTO approvals (task_id, agent, kind, tool, category, subject, reason, options,
       state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, 'open', $9, $10)
       RETURNING id`,
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
  if (row === undefined) throw new Error('INSERT … RETURNING gave no row');
  return row.id;
}

export async function selectApproval(sql: PgSql, id: number): Promise<Approval | null> {
  const row = await sql.get<ApprovalRow>(`${SELECT} WHERE approvals.id = $1`, id);
  return row === undefined ? null : toApproval(row);
}

/** Open requests, oldest first; with `all`, resolved ones too (the newest 200). */
export async function selectApprovals(
  sql: PgSql,
  filter: { all?: boolean; taskId?: number },
): Promise<Approval[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.all !== true) where.push(`approvals.state = 'open'`);
  if (filter.taskId !== undefined) {
    params.push(filter.taskId);
    where.push(`approvals.task_id = $${params.length}`);
  }
  const rows = await sql.all<ApprovalRow>(
    `${SELECT} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY approvals.id ${filter.all === true ? 'DESC LIMIT 200' : ''}`,
    ...params,
  );
  const approvals = rows.map(toApproval);
  return filter.all === true ? approvals.reverse() : approvals;
}

export async function hasOpenApproval(sql: PgSql, taskId: number): Promise<boolean> {
  const row = await sql.get(
    `SELECT 1 FROM approvals WHERE state = 'open' AND task_id = $1 LIMIT 1`,
    taskId,
  );
  return row !== undefined;
}

/** Writes the answer if the request is still open; false when another answer came first. */
export async function resolveIfOpen(
  sql: PgSql,
  id: number,
  resolution: ApprovalResolution,
  now: number,
): Promise<boolean> {
  const changed = await sql.run(
    `UPDATE approvals SET state = $2, scope = $3, answer = $4, answered_channel = $5,
       answered_by = $6, resolved_at = $7 WHERE id = $1 AND state = 'open'`,
    id,
    resolution.state,
    resolution.scope,
    resolution.answer,
    resolution.by.channel,
    resolution.by.who,
    now,
  );
  return changed > 0;
}

/** Closes every request of a task still open, and returns them as closed, oldest first. */
export async function resolveOpenOfTask(
  sql: PgSql,
  taskId: number,
  resolution: ApprovalResolution,
  now: number,
): Promise<Approval[]> {
  const rows = await sql.all<ApprovalRow>(
    `UPDATE approvals SET state = $2, scope = $3, answer = $4, answered_channel = $5,
       answered_by = $6, resolved_at = $7 WHERE task_id = $1 AND state = 'open'
       RETURNING approvals.*, (SELECT issue_ref FROM tasks WHERE tasks.id = approvals.task_id)
         AS issue_ref`,
    taskId,
    resolution.state,
    resolution.scope,
    resolution.answer,
    resolution.by.channel,
    resolution.by.who,
    now,
  );
  return rows.map(toApproval).sort((a, b) => a.id - b.id);
}

export async function insertGrant(
  sql: PgSql,
  taskId: number,
  category: PolicyCategory,
  approvalId: number,
): Promise<void> {
  await sql.run(
    `INSERT INTO approval_grants (task_id, category, approval_id) VALUES ($1, $2, $3)
       ON CONFLICT (task_id, category) DO NOTHING`,
    taskId,
    category,
    approvalId,
  );
}

export async function selectGrants(sql: PgSql, taskId: number): Promise<Set<PolicyCategory>> {
  const rows = await sql.all<{ category: PolicyCategory }>(
    'SELECT category FROM approval_grants WHERE task_id = $1',
    taskId,
  );
  return new Set(rows.map((r) => r.category));
}
