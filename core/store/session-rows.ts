/** Sessions as SQLite and PostgreSQL return them, and their mapping to the domain type. */
import type { AgentName, Session, SessionPullRequest, SessionState } from '../domain.js';

export interface SessionRow {
  issue_ref: string;
  workspace_key: string;
  server_name: string;
  repo_path: string;
  worktree_path: string;
  branch: string;
  state: string;
  agent: string;
  agent_session_id: string | null;
  last_message: string | null;
  last_task_id: number | null;
  created_at: number;
  updated_at: number;
  pr_number: number | null;
  pr_url: string | null;
  pr_state: string | null;
  issue_state: string | null;
}

export function toSession(row: SessionRow): Session {
  return {
    issueRef: row.issue_ref,
    workspaceKey: row.workspace_key,
    serverName: row.server_name,
    repoPath: row.repo_path,
    worktreePath: row.worktree_path,
    branch: row.branch,
    state: row.state as SessionState,
    agent: row.agent as AgentName,
    agentSessionId: row.agent_session_id,
    lastMessage: row.last_message,
    lastTaskId: row.last_task_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    pullRequest:
      row.pr_number === null || row.pr_url === null
        ? null
        : {
            number: row.pr_number,
            url: row.pr_url,
            state: (row.pr_state ?? 'open') as SessionPullRequest['state'],
          },
    issueState: row.issue_state as Session['issueState'],
  };
}
