/**
 * How an attempt's outcome moves its task and session on: the state transitions of DESIGN.md §4
 * as one pure function, which every store implementation applies in the transaction that
 * releases the slot.
 */
import type {
  EventData,
  EventType,
  SessionState,
  Task,
  TaskMode,
  TaskState,
  Usage,
} from '../domain.js';
import type { AttemptOutcome } from './records.js';

/** An attempt's end, as the transaction that records it is given it. */
export interface AttemptEnd {
  taskId: number;
  runId: number | null;
  exitCode: number | null;
  outcome: AttemptOutcome;
  usage: Usage | null;
  now: number;
  /** The claim's fencing token: the end is refused unless that claim still holds the task. */
  fence?: number | undefined;
}

export interface TaskChange {
  state: TaskState;
  /** Fields written with the state; undefined leaves a column as it is. */
  result?: string | null;
  lastError?: string | null;
  finishedAt?: number | null;
  notBefore?: number | null;
  mode?: TaskMode;
  attempts?: number;
}

export interface Settlement {
  task: TaskChange;
  /** The session's next state, for tasks of an issue. */
  session: { state: SessionState; agentSessionId: string | null; lastMessage: string } | null;
  /** The event that tells of it; an interrupted attempt tells nothing (it resumes). */
  event: { type: EventType; data: EventData } | null;
}

/** `task` as it stands before the attempt ends (running, its attempts counted). */
export function settle(task: Task, outcome: AttemptOutcome, now: number): Settlement {
  const session =
    task.issueRef === null
      ? null
      : {
          state: (outcome.kind === 'cancelled' || outcome.kind === 'interrupted'
            ? 'left'
            : 'idle') as SessionState,
          agentSessionId: outcome.agentSessionId,
          lastMessage: task.message,
        };
  const usage = task.usage;
  switch (outcome.kind) {
    case 'completed':
      return {
        task: { state: 'completed', result: outcome.result, finishedAt: now, lastError: null },
        session,
        event: { type: 'task_completed', data: { result: outcome.result, usage } },
      };
    case 'needs_input':
      return {
        task: { state: 'needs_input', result: outcome.question, finishedAt: now, lastError: null },
        session,
        event: { type: 'task_needs_input', data: { question: outcome.question, usage } },
      };
    case 'failed':
      if (outcome.retryDelayMs !== null) {
        return {
          task: {
            state: 'pending',
            notBefore: now + outcome.retryDelayMs,
            lastError: outcome.error,
          },
          session,
          event: {
            type: 'task_retrying',
            data: {
              error: outcome.error,
              attempt: task.attempts,
              maxAttempts: task.maxAttempts,
              retryDelayMs: outcome.retryDelayMs,
            },
          },
        };
      }
      return {
        task: { state: 'error', lastError: outcome.error, finishedAt: now },
        session,
        event: {
          type: 'task_error',
          data: {
            error: outcome.error,
            attempt: task.attempts,
            maxAttempts: task.maxAttempts,
            usage,
          },
        },
      };
    case 'cancelled':
      return {
        task: { state: 'cancelled', finishedAt: now },
        session,
        event: { type: 'task_cancelled', data: {} },
      };
    case 'interrupted':
      // Not the task's fault: the attempt is given back, and a dev task resumes its session.
      return {
        task: {
          state: 'pending',
          mode: task.kind === 'dev' ? 'resume' : task.mode,
          attempts: Math.max(task.attempts - 1, 0),
        },
        session,
        event: null,
      };
  }
}
