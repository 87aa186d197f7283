/**
 * Tasks, their runs and their slots as SQLite returns them, and their mapping to domain types.
 * PostgreSQL's come back in the same shapes but for their booleans (`postgres/pg-rows.ts`).
 */
import type { AgentName, Task, TaskKind, TaskMode, TaskState, Usage } from '../domain.js';

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
