/** The sessions table's statements, one function each. */
import type { Session, SessionPullRequest, SessionState, TaskState, Usage } from '../../domain.js';
import { toSession, type SessionRow } from '../session-rows.js';
import type { SessionWithTask } from '../store-interface.js';
import type { SqliteDb } from './sqlite-db.js';
import { USAGE_JSON } from './task-sql.js';

export function selectSession(db: SqliteDb, issueRef: string): Session | null {
  const row = db.get<SessionRow>('SELECT * FROM sessions WHERE issue_ref = ?', issueRef);
  return row === undefined ? null : toSession(row);
}

export function selectSessions(db: SqliteDb, all: boolean): Session[] {
  const sql = all
    ? 'SELECT * FROM sessions ORDER BY updated_at DESC, issue_ref'
    : `SELECT * FROM sessions WHERE state IN ('used', 'left') ORDER BY updated_at DESC, issue_ref`;
  return db.all<SessionRow>(sql).map(toSession);
}

/** Sessions with their running or newest task and their usage, in one query. */
export function selectSessionsWithTask(db: SqliteDb, all: boolean): SessionWithTask[] {
  const rows = db.all<
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

export function markSessionUsed(db: SqliteDb, issueRef: string, taskId: number, now: number): void {
  db.run(
    `UPDATE sessions SET state = 'used', last_task_id = ?, updated_at = ? WHERE issue_ref = ?`,
    taskId,
    now,
    issueRef,
  );
}

/** The session after an attempt: its state, the agent's session id if one was seen, the message. */
export function settleSession(
  db: SqliteDb,
  issueRef: string,
  change: { state: SessionState; agentSessionId: string | null; lastMessage: string },
  now: number,
): void {
  db.run(
    `UPDATE sessions SET state = ?, agent_session_id = COALESCE(?, agent_session_id),
       last_message = ?, updated_at = ? WHERE issue_ref = ?`,
    change.state,
    change.agentSessionId,
    change.lastMessage,
    now,
    issueRef,
  );
}

export function setAgentSessionId(db: SqliteDb, issueRef: string, id: string | null): void {
  db.run('UPDATE sessions SET agent_session_id = ? WHERE issue_ref = ?', id, issueRef);
}

export function setPullRequest(db: SqliteDb, issueRef: string, pr: SessionPullRequest): void {
  db.run(
    'UPDATE sessions SET pr_number = ?, pr_url = ?, pr_state = ? WHERE issue_ref = ?',
    pr.number,
    pr.url,
    pr.state,
    issueRef,
  );
}

export function setIssueState(db: SqliteDb, issueRef: string, state: 'open' | 'closed'): void {
  db.run('UPDATE sessions SET issue_state = ? WHERE issue_ref = ?', state, issueRef);
}

export function deleteSessionRow(db: SqliteDb, issueRef: string): void {
  db.run('DELETE FROM sessions WHERE issue_ref = ?', issueRef);
}
