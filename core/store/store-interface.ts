/**
 * The Store seam: what kugetsu's core needs from durable state, by area, and nothing of how it
 * is kept. Every method is one transaction and returns a promise, so SQLite (embedded, the
 * default) and PostgreSQL (several machines) implement the same interface and pass the same
 * conformance suite (test/store.conformance.test.ts). The methods that decide who may run
 * (`claims.claim`) count and claim in one transaction under the database's write lock, so the
 * check-then-spawn race cannot happen with any implementation.
 */
import type {
  ApprovalAnswer,
  Approval,
  ApprovalRequest,
  PolicyCategory,
} from '../approvals/approval.js';
import type {
  KugetsuEvent,
  Server,
  Session,
  SessionPullRequest,
  Task,
  TaskAttachment,
  TaskMode,
  Usage,
} from '../domain.js';
import type { ProcessIdentity } from '../process-info.js';
import type { FleetClaimParams, FleetClaimResult } from './fleet.js';
import type {
  FencedClaims,
  LeaseRecords,
  SessionWorkers,
  WorkerRecords,
} from './fleet-interface.js';
import type { IntakeCursor, IntakeRepo, NewIntakeRepo } from './intake-rows.js';
import type { RunRecord } from './task-rows.js';
import type {
  AttemptOutcome,
  NewSession,
  NewTask,
  QueueStats,
  SessionTask,
  SlotRecord,
} from './records.js';

export interface ServerRecords {
  list(): Promise<Server[]>;
  get(name: string): Promise<Server | null>;
  /** The first server becomes the default; a name taken is an OperationError. */
  add(server: Server): Promise<void>;
  remove(name: string): Promise<boolean>;
  setDefault(name: string): Promise<void>;
}

export interface TaskFilter {
  states?: readonly string[];
  issueRef?: string;
  limit?: number;
}

export interface TaskRecords {
  /** Queues a task (and its session, if new) and records `task_queued` with it. */
  enqueue(task: NewTask, session: NewSession | null, now?: number): Promise<Task>;
  /**
   * Queues a task only if `key` was never seen, recording the key with it: an issue or comment
   * is acted on once, whatever crashes or concurrent pollers do. Null when seen before.
   */
  enqueueOnce(
    key: string,
    task: NewTask,
    session: NewSession | null,
    now?: number,
  ): Promise<Task | null>;
  get(id: number): Promise<Task | null>;
  list(filter?: TaskFilter): Promise<Task[]>;
  /** The running or newest task of a session. */
  latestFor(issueRef: string): Promise<Task | null>;
  attachments(taskId: number): Promise<TaskAttachment[]>;
  /** Every staged file some task still refers to. */
  attachmentPaths(): Promise<string[]>;
  stats(): Promise<QueueStats>;
  /** A pending task is cancelled at once; a running one is marked for its owner to stop. */
  cancel(id: number, now?: number): Promise<Task>;
  /** A failed, cancelled or waiting task goes back to the queue with fresh attempts. */
  retry(id: number, now?: number): Promise<Task>;
  /** Deletes finished tasks (their runs and events too) that finished before `before`. */
  deleteFinished(before: number): Promise<number>;
  cancelAllPending(now?: number): Promise<number>;
  /**
   * Ends an attempt in one transaction: the slot is released (the caller has reaped the
   * agent's whole process group), open approvals are closed, the task and session take the
   * states `settle` gives, and the event is recorded. With `fence`, it is refused (an
   * OperationError, nothing written) unless that claim still holds the task.
   */
  finishAttempt(
    taskId: number,
    runId: number | null,
    exitCode: number | null,
    outcome: AttemptOutcome,
    usage?: Usage | null,
    now?: number,
    fence?: number,
  ): Promise<Task>;
}

export interface ClaimRecords extends FencedClaims {
  /**
   * Claims every task that may start now, in one transaction under the write lock: count the
   * slots (this worker's against its cap, all against the global cap), plan, insert the slots,
   * record why each other pending task waits. Each claimed task comes with its fencing token.
   */
  claim(params: FleetClaimParams, now?: number): Promise<FleetClaimResult>;
  /** Dev-agent slots held: the number the concurrency invariant bounds. */
  countedSlots(): Promise<number>;
  /** The spawned agent's identity on its slot, so a later owner can find and judge it. */
  recordAgentProcess(taskId: number, agent: ProcessIdentity): Promise<void>;
  list(): Promise<SlotRecord[]>;
  /**
   * Running tasks whose owning process is gone: candidates for recovery. Owners are judged by
   * pid on this machine, so with `worker`, slots other workers hold are not judged here (their
   * leases are, `recoverWorker`).
   */
  orphans(worker?: string): Promise<{ task: Task; slot: SlotRecord | null }[]>;
}

export interface RunRecords {
  start(
    taskId: number,
    attempt: number,
    mode: TaskMode,
    transcript: string,
    now?: number,
  ): Promise<number>;
  /** The agent process of a run is up: its pid, and `task_started`. */
  markSpawned(runId: number, taskId: number, pid: number, now?: number): Promise<void>;
  /** Usage reported so far: budgets and `list` see it before the run ends. */
  recordUsage(runId: number, usage: Usage): Promise<void>;
  /** Budget tokens (input + output + cache writes) of every run started at or after `since`. */
  budgetTokensSince(since: number): Promise<number>;
  list(taskId: number): Promise<RunRecord[]>;
  latest(limit: number): Promise<(RunRecord & { issueRef: string | null })[]>;
}

export interface SessionWithTask {
  session: Session;
  task: SessionTask | null;
  /** Summed over every run of every task of the session. */
  usage: Usage | null;
}

export interface SessionRecords extends SessionWorkers {
  get(issueRef: string): Promise<Session | null>;
  /** `used` and `left` sessions; with `all`, idle ones too. Newest first. */
  list(filter: { all: boolean }): Promise<Session[]>;
  listWithTask(filter: { all: boolean }): Promise<SessionWithTask[]>;
  setAgentSessionId(issueRef: string, agentSessionId: string): Promise<void>;
  clearAgentSessionId(issueRef: string): Promise<void>;
  /** With `fence`, refused (an OperationError) unless that claim still holds the session's task. */
  setPullRequest(issueRef: string, pr: SessionPullRequest, fence?: number): Promise<void>;
  setIssueState(issueRef: string, state: 'open' | 'closed'): Promise<void>;
  /** Deletes a session that is not running; its pending tasks are cancelled with it. */
  delete(issueRef: string, now?: number): Promise<void>;
}

export interface EventRecords {
  list(filter: { unreadOnly: boolean; afterId?: number; limit?: number }): Promise<KugetsuEvent[]>;
  markRead(now?: number): Promise<number>;
  latestId(): Promise<number>;
  /** How far a sink delivered; null for a sink never seen. */
  cursor(sink: string): Promise<number | null>;
  setCursor(sink: string, lastEventId: number): Promise<void>;
}

export interface IntakeRecords {
  upsert(repo: NewIntakeRepo, now?: number): Promise<IntakeRepo>;
  remove(serverName: string, repoPath: string): Promise<boolean>;
  list(): Promise<IntakeRepo[]>;
  saveCursor(serverName: string, repoPath: string, cursor: IntakeCursor): Promise<void>;
}

export interface LockRecords extends LeaseRecords {
  /** The live daemon of this home, if any. */
  daemonOwner(): Promise<ProcessIdentity | null>;
  /** One daemon per home: a lock left by a dead daemon is taken over. */
  acquireDaemon(
    me: ProcessIdentity,
  ): Promise<{ ok: true } | { ok: false; holder: ProcessIdentity }>;
  releaseDaemon(me: ProcessIdentity): Promise<void>;
}

/** Small facts that are no table's business: the base and PM agent sessions, session totals. */
export interface MetaRecords {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface ApprovalRecordsApi {
  /** Opens a request and records `approval_requested` with it. */
  open(
    taskId: number,
    agent: string,
    request: ApprovalRequest,
    expiresAt: number,
    now?: number,
  ): Promise<Approval>;
  get(id: number): Promise<Approval | null>;
  /** Open requests, oldest first; with `all`, resolved ones too (the newest 200). */
  list(filter?: { all?: boolean; taskId?: number }): Promise<Approval[]>;
  hasOpen(taskId: number): Promise<boolean>;
  /** The first answer wins; a later one changes nothing and learns the first. */
  resolve(
    id: number,
    answer: ApprovalAnswer,
    now?: number,
  ): Promise<{ approval: Approval; won: boolean }>;
  /** Categories allowed for the rest of the task. */
  grants(taskId: number): Promise<Set<PolicyCategory>>;
}

/** An HTTP API bearer token, as listed: never the token itself, which is kept only hashed. */
export interface ApiToken {
  name: string;
  readOnly: boolean;
  createdAt: number;
}

export interface ApiTokenRecords {
  /** `hash` is the token's sha256 (core/api-tokens.ts); a name taken is an OperationError. */
  create(token: ApiToken, hash: string): Promise<ApiToken>;
  list(): Promise<ApiToken[]>;
  /** The token with this hash, with the hash as stored (for a constant-time check); null when revoked or never issued. */
  findByHash(hash: string): Promise<(ApiToken & { hash: string }) | null>;
  revoke(name: string): Promise<boolean>;
  /** A one-time login code (hashed), good until `expiresAt`. */
  addLoginCode(hash: string, readOnly: boolean, expiresAt: number): Promise<void>;
  /** Spends a login code: the first caller before it expires gets its grant, any other null. Expired codes go too. */
  redeemLoginCode(hash: string, now?: number): Promise<{ readOnly: boolean } | null>;
}

export interface StoreApi {
  readonly servers: ServerRecords;
  readonly tasks: TaskRecords;
  readonly claims: ClaimRecords;
  readonly runs: RunRecords;
  readonly sessions: SessionRecords;
  readonly events: EventRecords;
  readonly intake: IntakeRecords;
  readonly locks: LockRecords;
  readonly meta: MetaRecords;
  readonly approvals: ApprovalRecordsApi;
  readonly workers: WorkerRecords;
  /** `ok`, or what the database reports wrong with itself (for `doctor`). */
  check(): Promise<string>;
  readonly apiTokens: ApiTokenRecords;
  close(): Promise<void>;
}
