/**
 * The slice of durable state a task attempt reads and writes, and nothing else of the home: the
 * runner and its steps go through it, so tests drive them with a fake. `storeLedger` implements
 * it over the Store seam.
 */
import {
  agentSessionMeta,
  type BaseSessionRecord,
  type PmSessionRecord,
} from '../agent-sessions.js';
import type {
  AgentName,
  Session,
  SessionPullRequest,
  Task,
  TaskAttachment,
  TaskMode,
  Usage,
} from '../domain.js';
import type { ProcessIdentity } from '../process-info.js';
import type { ApprovalRecordsApi, StoreApi } from '../store/store-interface.js';
import type { AttemptOutcome } from '../store/records.js';

export interface RunLedger {
  session(issueRef: string): Promise<Session | null>;
  attachments(taskId: number): Promise<TaskAttachment[]>;
  startRun(taskId: number, attempt: number, mode: TaskMode, transcript: string): Promise<number>;
  /** The spawned agent's identity on its slot: a crash from here on leaves a findable pid. */
  recordAgentProcess(taskId: number, agent: ProcessIdentity): Promise<void>;
  /** The run's pid, and `task_started`. */
  markSpawned(runId: number, taskId: number, pid: number): Promise<void>;
  recordUsage(runId: number, usage: Usage): Promise<void>;
  budgetTokensSince(since: number): Promise<number>;
  setAgentSessionId(issueRef: string, agentSessionId: string): Promise<void>;
  clearAgentSessionId(issueRef: string): Promise<void>;
  setPullRequest(issueRef: string, pr: SessionPullRequest): Promise<void>;
  baseSession(agent: AgentName): Promise<BaseSessionRecord | null>;
  deleteBaseSession(agent: AgentName): Promise<void>;
  pmSession(): Promise<PmSessionRecord | null>;
  setPmSession(agent: AgentName, sessionId: string | null): Promise<void>;
  /** The running total an agent last reported for one of its sessions. */
  sessionTotals(agent: AgentName, sessionId: string): Promise<Usage | null>;
  setSessionTotals(agent: AgentName, sessionId: string, totals: Usage): Promise<void>;
  readonly approvals: Pick<ApprovalRecordsApi, 'open' | 'get' | 'resolve' | 'grants' | 'hasOpen'>;
  /** Releases the slot and settles the task: only once the agent's process group is gone. */
  finishAttempt(
    taskId: number,
    runId: number | null,
    exitCode: number | null,
    outcome: AttemptOutcome,
    usage: Usage | null,
  ): Promise<Task>;
}

export function storeLedger(store: StoreApi): RunLedger {
  const meta = agentSessionMeta(store.meta);
  return {
    session: (issueRef) => store.sessions.get(issueRef),
    attachments: (taskId) => store.tasks.attachments(taskId),
    startRun: (taskId, attempt, mode, transcript) =>
      store.runs.start(taskId, attempt, mode, transcript),
    recordAgentProcess: (taskId, agent) => store.claims.recordAgentProcess(taskId, agent),
    markSpawned: (runId, taskId, pid) => store.runs.markSpawned(runId, taskId, pid),
    recordUsage: (runId, usage) => store.runs.recordUsage(runId, usage),
    budgetTokensSince: (since) => store.runs.budgetTokensSince(since),
    setAgentSessionId: (issueRef, id) => store.sessions.setAgentSessionId(issueRef, id),
    clearAgentSessionId: (issueRef) => store.sessions.clearAgentSessionId(issueRef),
    setPullRequest: (issueRef, pr) => store.sessions.setPullRequest(issueRef, pr),
    baseSession: meta.base,
    deleteBaseSession: meta.deleteBase,
    pmSession: meta.pm,
    setPmSession: meta.setPm,
    sessionTotals: meta.totals,
    setSessionTotals: meta.setTotals,
    approvals: store.approvals,
    finishAttempt: (taskId, runId, exitCode, outcome, usage) =>
      store.tasks.finishAttempt(taskId, runId, exitCode, outcome, usage),
  };
}

/**
 * The agent lost a session kugetsu holds (its data wiped, or another CODEX_HOME): forget it, so
 * the next attempt starts a new one instead of failing the same way. True when it was the base
 * session.
 */
export async function forgetLostSession(
  ledger: RunLedger,
  task: Pick<Task, 'agent' | 'kind' | 'issueRef'>,
  lostId: string,
): Promise<boolean> {
  const wasBase = (await ledger.baseSession(task.agent))?.sessionId === lostId;
  if (wasBase) await ledger.deleteBaseSession(task.agent);
  else if (task.kind === 'pm') await ledger.setPmSession(task.agent, null);
  else if (task.issueRef !== null) await ledger.clearAgentSessionId(task.issueRef);
  return wasBase;
}
