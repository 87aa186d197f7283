/** Approvals as SQLite and PostgreSQL return them, and their mapping to the domain type. */
import type {
  AnswerChannel,
  Approval,
  ApprovalKind,
  ApprovalState,
  PolicyCategory,
} from '../approvals/approval.js';

/** An approval with its task's issue ref joined in. */
export interface ApprovalRow {
  id: number;
  task_id: number;
  issue_ref: string | null;
  agent: string;
  kind: string;
  tool: string;
  category: string;
  subject: string;
  reason: string | null;
  options: string;
  state: string;
  scope: string | null;
  answer: string | null;
  answered_channel: string | null;
  answered_by: string | null;
  created_at: number;
  expires_at: number;
  resolved_at: number | null;
}

export function toApproval(row: ApprovalRow): Approval {
  return {
    id: row.id,
    taskId: row.task_id,
    issueRef: row.issue_ref,
    agent: row.agent,
    kind: row.kind as ApprovalKind,
    tool: row.tool,
    category: row.category as PolicyCategory,
    subject: row.subject,
    reason: row.reason,
    options: JSON.parse(row.options) as string[],
    state: row.state as ApprovalState,
    scope: row.scope as 'once' | 'task' | null,
    answer: row.answer,
    answeredBy:
      row.answered_channel === null
        ? null
        : { channel: row.answered_channel as AnswerChannel, who: row.answered_by ?? '' },
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    resolvedAt: row.resolved_at,
  };
}
