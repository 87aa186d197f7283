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
  /** Refused (an OperationError) when the task's claim has moved on (see `claimHolds`). */
  setPullRequest(issueRef: string, pr: SessionPullRequest, taskId: number): Promise<void>;
  /**
   * Whether the claim this process holds on the task still stands: on a fleet, a worker silent
   * past its lease loses its claims, and must not then push, comment or open a pull request.
   */
  claimHolds(taskId: number): Promise<boolean>;
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

type Persist = <T>(write: () => Promise<T>) => Promise<T>;

/**
 * `fenceOf` gives the fencing token the task was claimed with (none: writes are not fenced).
 * `persist` wraps every call, so an attempt outlasts a database out of reach (a fleet's shared
 * one): its agent runs on, and what it reports is written once the database is back, instead of
 * failing the attempt and running the agent again.
 */
export function storeLedger(
  store: StoreApi,
  fenceOf: (taskId: number) => number | undefined = () => undefined,
  persist: Persist = (write) => write(),
): RunLedger {
  const meta = agentSessionMeta(store.meta);
  const { approvals } = store;
  return {
    session: (issueRef) => persist(() => store.sessions.get(issueRef)),
    attachments: (taskId) => persist(() => store.tasks.attachments(taskId)),
    startRun: (taskId, attempt, mode, transcript) =>
      persist(() => store.runs.start(taskId, attempt, mode, transcript)),
    recordAgentProcess: (taskId, agent) =>
      persist(() => store.claims.recordAgentProcess(taskId, agent)),
    markSpawned: (runId, taskId, pid) => persist(() => store.runs.markSpawned(runId, taskId, pid)),
    recordUsage: (runId, usage) => persist(() => store.runs.recordUsage(runId, usage)),
    budgetTokensSince: (since) => persist(() => store.runs.budgetTokensSince(since)),
    setAgentSessionId: (issueRef, id) =>
      persist(() => store.sessions.setAgentSessionId(issueRef, id)),
    clearAgentSessionId: (issueRef) => persist(() => store.sessions.clearAgentSessionId(issueRef)),
    setPullRequest: (issueRef, pr, taskId) =>
      persist(() => store.sessions.setPullRequest(issueRef, pr, fenceOf(taskId))),
    claimHolds: async (taskId) => {
      const fence = fenceOf(taskId);
      return fence === undefined || persist(() => store.claims.isCurrent(taskId, fence));
    },
    baseSession: (agent) => persist(() => meta.base(agent)),
    deleteBaseSession: (agent) => persist(() => meta.deleteBase(agent)),
    pmSession: () => persist(() => meta.pm()),
    setPmSession: (agent, id) => persist(() => meta.setPm(agent, id)),
    sessionTotals: (agent, id) => persist(() => meta.totals(agent, id)),
    setSessionTotals: (agent, id, totals) => persist(() => meta.setTotals(agent, id, totals)),
    approvals: {
      open: (...args) => persist(() => approvals.open(...args)),
      get: (id) => persist(() => approvals.get(id)),
      resolve: (...args) => persist(() => approvals.resolve(...args)),
      grants: (taskId) => persist(() => approvals.grants(taskId)),
      hasOpen: (taskId) => persist(() => approvals.hasOpen(taskId)),
    },
    finishAttempt: (taskId, runId, exitCode, outcome, usage) =>
      persist(() =>
        store.tasks.finishAttempt(
          taskId,
          runId,
          exitCode,
          outcome,
          usage,
          undefined,
          fenceOf(taskId),
        ),
      ),
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
