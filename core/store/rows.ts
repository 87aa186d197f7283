/**
 * Row shapes as SQLite returns them, and their mapping to domain types. PostgreSQL's rows come
 * back in the same shapes but for their booleans (`postgres/pg-rows.ts` adapts those).
 */
import type {
  AnswerChannel,
  Approval,
  ApprovalKind,
  ApprovalState,
  PolicyCategory,
} from '../approvals/approval.js';
import type {
  AgentName,
  EventData,
  EventType,
  KugetsuEvent,
  Server,
  ServerKind,
  Session,
  SessionPullRequest,
  SessionState,
  Task,
  TaskKind,
  TaskMode,
  TaskState,
  Usage,
} from '../domain.js';

export interface TaskRow {
  id: number;
  kind: string;
  mode: string;
  issue_ref: string | null;
  message: string;
  agent: string;
  model: string | null;
  state: string;
  attempts: number;
  max_attempts: number;
  not_before: number | null;
  wait_reason: string | null;
  last_error: string | null;
  result: string | null;
  cancel_requested: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** Summed run usage, as the store's task query builds it. */
  usage_json: string | null;
}

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

export interface EventRow {
  id: number;
  type: string;
  task_id: number;
  issue_ref: string | null;
  message: string;
  data: string | null;
  created_at: number;
  read_at: number | null;
}

export interface ServerRow {
  name: string;
  kind: string;
  url: string;
  host: string | null;
  api_url: string | null;
  token_env: string | null;
  is_default: number;
}

export interface SlotRow {
  task_id: number;
  counts: number;
  owner_pid: number;
  owner_start: string;
  agent_pid: number | null;
  agent_start: string | null;
  claimed_at: number;
}

export interface RunRow {
  id: number;
  task_id: number;
  attempt: number;
  mode: string;
  transcript: string;
  pid: number | null;
  started_at: number;
  finished_at: number | null;
  exit_code: number | null;
  outcome: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  cost_usd: number | null;
}

export interface RunRecord {
  id: number;
  taskId: number;
  attempt: number;
  mode: TaskMode;
  transcript: string;
  pid: number | null;
  startedAt: number;
  finishedAt: number | null;
  exitCode: number | null;
  outcome: string | null;
  /** What the agent reported, live while it runs; null when it reported nothing. */
  usage: Usage | null;
}

export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    taskId: row.task_id,
    attempt: row.attempt,
    mode: row.mode as TaskMode,
    transcript: row.transcript,
    pid: row.pid,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    exitCode: row.exit_code,
    outcome: row.outcome,
    usage:
      row.input_tokens === null
        ? null
        : {
            inputTokens: row.input_tokens,
            outputTokens: row.output_tokens ?? 0,
            cacheReadTokens: row.cache_read_tokens ?? 0,
            cacheWriteTokens: row.cache_write_tokens ?? 0,
            costUsd: row.cost_usd,
          },
  };
}

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    kind: row.kind as TaskKind,
    mode: row.mode as TaskMode,
    issueRef: row.issue_ref,
    message: row.message,
    agent: row.agent as AgentName,
    model: row.model,
    state: row.state as TaskState,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    notBefore: row.not_before,
    waitReason: row.wait_reason,
    lastError: row.last_error,
    result: row.result,
    cancelRequested: row.cancel_requested !== 0,
    usage: row.usage_json === null ? null : (JSON.parse(row.usage_json) as Usage),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
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

export function toEvent(row: EventRow): KugetsuEvent {
  return {
    id: row.id,
    type: row.type as EventType,
    taskId: row.task_id,
    issueRef: row.issue_ref,
    message: row.message,
    data: row.data === null ? {} : (JSON.parse(row.data) as EventData),
    createdAt: row.created_at,
    readAt: row.read_at,
  };
}

export function toServer(row: ServerRow): Server {
  return {
    name: row.name,
    kind: row.kind as ServerKind,
    url: row.url,
    host: row.host,
    apiUrl: row.api_url,
    tokenEnv: row.token_env,
    isDefault: row.is_default !== 0,
  };
}

export interface IntakeRepoRow {
  server_name: string;
  repo_path: string;
  label: string;
  mention: string;
  issues_etag: string | null;
  issues_last_modified: string | null;
  comments_etag: string | null;
  comments_last_modified: string | null;
  comments_since: number;
  created_at: number;
}

/** Where a repository's last intake poll stopped: the forge's validators and the comment cursor. */
export interface IntakeCursor {
  issuesEtag: string | null;
  issuesLastModified: string | null;
  commentsEtag: string | null;
  commentsLastModified: string | null;
  /** Epoch ms: comments created after this have not been looked at. */
  commentsSince: number;
}

export interface IntakeRepo extends IntakeCursor {
  serverName: string;
  /** `owner/repo` */
  repoPath: string;
  /** Open issues carrying it are queued. */
  label: string;
  /** A new comment containing it continues the issue's session, e.g. `@kugetsu`. */
  mention: string;
  createdAt: number;
}

export type NewIntakeRepo = Pick<IntakeRepo, 'serverName' | 'repoPath' | 'label' | 'mention'>;

export function toIntakeRepo(row: IntakeRepoRow): IntakeRepo {
  return {
    serverName: row.server_name,
    repoPath: row.repo_path,
    label: row.label,
    mention: row.mention,
    issuesEtag: row.issues_etag,
    issuesLastModified: row.issues_last_modified,
    commentsEtag: row.comments_etag,
    commentsLastModified: row.comments_last_modified,
    commentsSince: row.comments_since,
    createdAt: row.created_at,
  };
}

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
