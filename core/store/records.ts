/**
 * The records the Store seam takes and gives besides the domain's own: what queueing writes,
 * what a claim asks and answers, how an attempt ended, and the queue's counts.
 */
import type { AgentName, Session, Task, TaskAttachment, TaskKind, TaskMode } from '../domain.js';
import type { ProcessIdentity } from '../process-info.js';

export type SessionTask = Pick<Task, 'id' | 'state' | 'attempts' | 'maxAttempts'>;

export interface NewTask {
  kind: TaskKind;
  mode: TaskMode;
  issueRef: string | null;
  message: string;
  agent: AgentName;
  model?: string | null;
  maxAttempts: number;
  /** Files that come with it, stored in the same transaction. */
  attachments?: readonly TaskAttachment[];
}

export type NewSession = Omit<
  Session,
  | 'state'
  | 'agentSessionId'
  | 'lastMessage'
  | 'lastTaskId'
  | 'createdAt'
  | 'updatedAt'
  | 'pullRequest'
  | 'issueState'
>;

export interface ClaimParams {
  owner: ProcessIdentity;
  maxAgents: number;
  availableMemoryMb: number | null;
  minFreeMemoryMb: number;
}

export interface ClaimResult {
  claimed: Task[];
  nextWakeAt: number | null;
  memoryBlocked: boolean;
}

/** How an attempt ended, as the runner saw it. The store turns it into task/session states. */
export type AttemptOutcome =
  | { kind: 'completed'; result: string; agentSessionId: string | null }
  | {
      kind: 'failed';
      error: string;
      agentSessionId: string | null;
      /** Set when another attempt follows: the delay before it. */
      retryDelayMs: number | null;
    }
  | { kind: 'needs_input'; question: string; agentSessionId: string | null }
  | { kind: 'cancelled'; agentSessionId: string | null }
  /** The run was cut short by kugetsu itself (daemon stop, crash): not the task's fault. */
  | { kind: 'interrupted'; agentSessionId: string | null };

export interface SlotRecord {
  taskId: number;
  counts: boolean;
  owner: ProcessIdentity;
  agent: ProcessIdentity | null;
  claimedAt: number;
}

export interface QueueStats {
  pending: number;
  running: number;
  completed: number;
  needsInput: number;
  error: number;
  cancelled: number;
  slotsHeld: number;
}
