/** Domain types shared by every part of kugetsu. Row shapes live in the store, not here. */

export const TASK_STATES = [
  'pending',
  'running',
  'completed',
  'needs_input',
  'error',
  'cancelled',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States a task does not leave on its own. */
export function isFinished(state: TaskState): boolean {
  return state !== 'pending' && state !== 'running';
}

export const TASK_MODES = ['start', 'continue', 'resume'] as const;
export type TaskMode = (typeof TASK_MODES)[number];

/** `dev` tasks work on an issue and count against MAX_CONCURRENT_AGENTS; `pm` tasks do not. */
export type TaskKind = 'dev' | 'pm';

export const SESSION_STATES = ['idle', 'used', 'left'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const AGENT_NAMES = ['opencode', 'claude', 'codex', 'command'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

export const SERVER_KINDS = ['gitea', 'github', 'gitlab', 'git'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export const EVENT_TYPES = [
  'task_queued',
  'task_dequeued',
  'task_started',
  'task_completed',
  'task_error',
  'task_retrying',
  'task_cancelled',
  'task_needs_input',
  'approval_requested',
  'approval_resolved',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface Task {
  id: number;
  kind: TaskKind;
  mode: TaskMode;
  /** Normalised `host/owner/repo#N`; null for PM tasks. */
  issueRef: string | null;
  message: string;
  agent: AgentName;
  /** The model this task's runs use; null: KUGETSU_MODEL, then the agent's own choice. */
  model: string | null;
  state: TaskState;
  /** Attempts started so far (1-based once running). */
  attempts: number;
  maxAttempts: number;
  /** Epoch ms before which a pending task must not start (retry backoff). */
  notBefore: number | null;
  /** Why a pending task is not running yet, as last seen by the scheduler. */
  waitReason: string | null;
  lastError: string | null;
  /** One-line outcome of a finished task (diffstat, branch, the PM agent's answer). */
  result: string | null;
  cancelRequested: boolean;
  /** Summed over the task's runs; null while no run reported any. */
  usage: Usage | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/**
 * A file that comes with a task. `path` is where it waits (under the home's `attachments/`) until
 * the runner copies it into the task's workspace; `name` is already a safe file name.
 */
export interface TaskAttachment {
  name: string;
  path: string;
  mime: string;
  size: number;
}

/** Tokens and cost an agent reported, in one shape for every backend. */
export interface Usage {
  /** Input tokens not served from the prompt cache. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** What the agent reported the run cost, when it reports one. */
  costUsd: number | null;
}

export interface Session {
  issueRef: string;
  workspaceKey: string;
  serverName: string;
  /** `owner/repo` on the server. */
  repoPath: string;
  worktreePath: string;
  branch: string;
  state: SessionState;
  agent: AgentName;
  agentSessionId: string | null;
  lastMessage: string | null;
  lastTaskId: number | null;
  createdAt: number;
  updatedAt: number;
  /** The pull request kugetsu opened for the branch, as last seen; null on `git` servers. */
  pullRequest: SessionPullRequest | null;
  /** The issue's state on its forge, as last seen; null where unknown. */
  issueState: 'open' | 'closed' | null;
}

export interface SessionPullRequest {
  number: number;
  url: string;
  state: 'open' | 'closed' | 'merged';
}

export interface KugetsuEvent {
  id: number;
  type: EventType;
  taskId: number;
  issueRef: string | null;
  message: string;
  /** What the event is about beyond its task, for interfaces that format it themselves. */
  data: EventData;
  createdAt: number;
  readAt: number | null;
}

/**
 * What an event is about, beyond its task: each interface formats its own text from it
 * (`events/event-text.ts` is the one-line English of `notify` and the log).
 */
export interface EventData {
  /** `task_queued`: the mode queued; `requeued` when `queue retry` put it back. */
  mode?: TaskMode;
  requeued?: boolean;
  /** The attempt an event is about (dequeued, started, retrying; error: the attempts made). */
  attempt?: number;
  maxAttempts?: number;
  /** `task_completed`: the outcome line (branch, diffstat, hand-off, the agent's answer). */
  result?: string;
  /** `task_retrying`, `task_error`. */
  error?: string;
  retryDelayMs?: number;
  /** `task_needs_input`. */
  question?: string;
  /** Summed over the task's runs, on the events that end it. */
  usage?: Usage | null;
  /** `task_cancelled` of a task that never ran. */
  beforeRun?: boolean;
  /** The approval an `approval_requested` or `approval_resolved` event is about. */
  approvalId?: number;
  /** What it asks, or how it was resolved, in one line (`wants to run npm test`). */
  summary?: string;
}

export interface Server {
  name: string;
  kind: ServerKind;
  /** Web/clone base URL, e.g. `https://git.example.com` or `file:///srv/git`. */
  url: string;
  /** Host part of `url`, or null for servers without one (`file://`); refs then use the name. */
  host: string | null;
  apiUrl: string | null;
  tokenEnv: string | null;
  isDefault: boolean;
}
