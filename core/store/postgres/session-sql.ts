/** The sessions table's statements on PostgreSQL, one function each. */
import type { Session, SessionPullRequest, SessionState, TaskState, Usage } from '../../domain.js';
import { toSession, type SessionRow } from '../session-rows.js';
import type { SessionWithTask } from '../store-interface.js';
import type { PgSql } from './pg-db.js';
import { USAGE_JSON } from './task-sql.js';

export async function selectSession(sql: PgSql, issueRef: string): Promise<Session | null> {
  const row = await sql.get<SessionRow>('SELECT * FROM sessions WHERE issue_ref = $1', issueRef);
  return row === undefined ? null : toSession(row);
}

export async function selectSessions(sql: PgSql, all: boolean): Promise<Session[]> {
  const rows = await sql.all<SessionRow>(
    all
      ? 'SELECT * FROM sessions ORDER BY updated_at DESC, issue_ref'
      : `SELECT * FROM sessions WHERE state IN ('used', 'left') ORDER BY updated_at DESC, issue_ref`,
  );
  return rows.map(toSession);
}

/** Sessions with their running or newest task and their usage, in one query. */
export async function selectSessionsWithTask(sql: PgSql, all: boolean): Promise<SessionWithTask[]> {
  const rows = await sql.all<
    SessionRow & {
      t_id: number | null;
      t_state: string | null;
      t_attempts: number | null;
      t_max: number | null;
      usage_json: string | null;
    }
  >(
    `SELECT s.*, t.id AS t_id, t.state AS t_state, t.attempts AS t_attempts, t.max_attempts AS t_max,
         (SELECT ${USAGE_JSON} FROM tasks st JOIN runs ON runs.task_id = st.id
            WHERE st.issue_ref = s.issue_ref) AS usage_json
       FROM sessions s
       LEFT JOIN tasks t ON t.id = (
         SELECT id FROM tasks WHERE issue_ref = s.issue_ref
         ORDER BY (state = 'running') DESC, id DESC LIMIT 1)
       ${all ? '' : `WHERE s.state IN ('used', 'left')`}
       ORDER BY s.updated_at DESC, s.issue_ref`,
  );
  return rows.map((row) => ({
    session: toSession(row),
    usage: row.usage_json === null ? null : (JSON.parse(row.usage_json) as Usage),
    task:
      row.t_id === null
        ? null
        : {
            id: row.t_id,
            state: row.t_state as TaskState,
            attempts: row.t_attempts ?? 0,
            maxAttempts: row.t_max ?? 0,
          },
  }));
}

export async function markSessionUsed(
  sql: PgSql,
  issueRef: string,
  taskId: number,
  now: number,
): Promise<void> {
  await sql.run(
    `UPDATE sessions SET state = 'used', last_task_id = $2, updated_at = $3 WHERE issue_ref = $1`,
    issueRef,
    taskId,
    now,
  );
}

/** The session after an attempt: its state, the agent's session id if one was seen, the message. */
export async function settleSession(
  sql: PgSql,
  issueRef: string,
  change: { state: SessionState; agentSessionId: string | null; lastMessage: string },
  now: number,
): Promise<void> {
  await sql.run(
    `UPDATE sessions SET state = $2, agent_session_id = COALESCE($3, agent_session_id),
       last_message = $4, updated_at = $5 WHERE issue_ref = $1`,
    issueRef,
    change.state,
    change.agentSessionId,
    change.lastMessage,
    now,
  );
}

export async function setAgentSessionId(
  sql: PgSql,
  issueRef: string,
  id: string | null,
): Promise<void> {
  await sql.run('UPDATE sessions SET agent_session_id = $2 WHERE issue_ref = $1', issueRef, id);
}

export async function setPullRequest(
  sql: PgSql,
  issueRef: string,
  pr: SessionPullRequest,
): Promise<void> {
  await sql.run(
    'UPDATE sessions SET pr_number = $2, pr_url = $3, pr_state = $4 WHERE issue_ref = $1',
    issueRef,
    pr.number,
    pr.url,
    pr.state,
  );
}

export async function setIssueState(
  sql: PgSql,
  issueRef: string,
  state: 'open' | 'closed',
): Promise<void> {
  await sql.run('UPDATE sessions SET issue_state = $2 WHERE issue_ref = $1', issueRef, state);
}

export async function deleteSessionRow(sql: PgSql, issueRef: string): Promise<void> {
  await sql.run('DELETE FROM sessions WHERE issue_ref = $1', issueRef);
}
