/**
 * The Store seam on PostgreSQL: several processes, on several machines, sharing one database.
 * Each method is one transaction on one pooled client (pg-db.ts), or one statement on the pool,
 * which is a transaction of its own. The transitions are the shared pure ones (`settle`,
 * `resolutionOf`, `planDispatch`, `eventText`); what differs from SQLite is how the writers that
 * SQLite serialises are kept apart here: advisory locks, conditional updates, unique keys.
 */
import type { Approval } from '../../approvals/approval.js';
import { OperationError } from '../../errors.js';
import { isAlive, sameProcess, type ProcessIdentity } from '../../process-info.js';
import { requestedEventData, resolutionOf, resolvedEventData } from '../approval-transitions.js';
import type { WorkerRecords } from '../fleet-interface.js';
import type {
  ApiTokenRecords,
  ApprovalRecordsApi,
  ClaimRecords,
  EventRecords,
  IntakeRecords,
  LockRecords,
  MetaRecords,
  RunRecords,
  ServerRecords,
  SessionRecords,
  StoreApi,
  TaskRecords,
} from '../store-interface.js';
import {
  hasOpenApproval,
  insertApproval,
  insertGrant,
  resolveIfOpen,
  selectApproval,
  selectApprovals,
  selectGrants,
} from './approval-sql.js';
import { postgresApiTokens } from './api-token-sql.js';
import { PgDb, type PgSql, type PgDbOptions } from './pg-db.js';
import { listenForWake, type WakeOptions, type WakeSubscription } from './pg-wake.js';
import {
  postgresLeases,
  postgresSessionWorkers,
  postgresSetPullRequest,
  postgresWorkers,
} from './postgres-fleet.js';
import { postgresClaims, postgresTasks, type OwnerLiveness } from './postgres-tasks.js';
import {
  insertRun,
  selectLatestRuns,
  selectRuns,
  setRunPid,
  setRunUsage,
  sumBudgetTokensSince,
} from './run-sql.js';
import {
  deleteSessionRow,
  selectSession,
  selectSessions,
  selectSessionsWithTask,
  setAgentSessionId,
  setIssueState,
} from './session-sql.js';
import {
  deleteIntakeRepo,
  deleteMeta,
  deleteServer,
  insertServer,
  markDefaultServer,
  markEventsRead,
  selectEvents,
  selectIntakeRepos,
  selectLatestEventId,
  selectMeta,
  selectServer,
  selectServers,
  selectSinkCursor,
  updateIntakeCursor,
  upsertIntakeRepo,
  upsertMeta,
  upsertSinkCursor,
} from './small-tables-sql.js';
import { markCancelledBeforeRun, mustSelectTask, selectTasks } from './task-sql.js';

const DAEMON_LOCK = 'daemon_owner';

export interface PostgresStoreOptions extends PgDbOptions {
  /**
   * Judges the owners of slots and of the daemon lock (default: `isAlive`, this machine's
   * view). The seam where leases come in for workers on several machines.
   */
  ownerAlive?: OwnerLiveness;
  /**
   * The worker this handle's process runs as: the daemon lock is then this worker's own (one
   * daemon per worker name, judged by pid on its machine), not the database's.
   */
  worker?: string;
}

/**
 * Connects to `url` (`postgres://user:password@host:port/database`) and applies pending
 * migrations. Rejects, with nothing left open, when the server cannot be reached or the
 * schema is newer than this kugetsu.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  return new PostgresStore(
    await PgDb.open(url, options),
    options.ownerAlive ?? isAlive,
    options.worker,
  );
}

export class PostgresStore implements StoreApi {
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
  readonly apiTokens: ApiTokenRecords;
  readonly workers: WorkerRecords;

  constructor(
    readonly db: PgDb,
    ownerAlive: OwnerLiveness = isAlive,
    worker?: string,
  ) {
    const daemonLock = worker === undefined ? DAEMON_LOCK : `${DAEMON_LOCK}:${worker}`;
    const sql = db.sql;
    this.tasks = postgresTasks(db);
    this.claims = postgresClaims(db, ownerAlive);
    this.apiTokens = postgresApiTokens(db);
    this.workers = postgresWorkers(db);

    this.servers = {
      list: () => selectServers(sql),
      get: (name) => selectServer(sql, name),
      add: (server) =>
        db.locked('servers', async (tx) => {
          if ((await selectServer(tx, server.name)) !== null)
            throw new OperationError(`server ${server.name} already exists: remove it first`);
          const first = (await selectServers(tx)).length === 0;
          await insertServer(tx, server, server.isDefault || first);
          if (server.isDefault) await markDefaultServer(tx, server.name);
        }),
      remove: (name) => deleteServer(sql, name),
      setDefault: (name) =>
        db.locked('servers', async (tx) => {
          if ((await selectServer(tx, name)) === null)
            throw new OperationError(`server ${name} not found`);
          await markDefaultServer(tx, name);
        }),
    };

    this.runs = {
      start: (taskId, attempt, mode, transcript, now = Date.now()) =>
        insertRun(sql, taskId, attempt, mode, transcript, now),
      markSpawned: (runId, taskId, pid, now = Date.now()) =>
        db.transaction(async (tx) => {
          await setRunPid(tx, runId, pid);
          const task = await mustSelectTask(tx, taskId);
          tx.insertEvent(
            'task_started',
            taskId,
            task.issueRef,
            { attempt: task.attempts, maxAttempts: task.maxAttempts },
            now,
          );
        }),
      recordUsage: (runId, usage) => setRunUsage(sql, runId, usage),
      budgetTokensSince: (since) => sumBudgetTokensSince(sql, since),
      list: (taskId) => selectRuns(sql, taskId),
      latest: (limit) => selectLatestRuns(sql, limit),
    };

    this.sessions = {
      get: (issueRef) => selectSession(sql, issueRef),
      list: ({ all }) => selectSessions(sql, all),
      listWithTask: ({ all }) => selectSessionsWithTask(sql, all),
      setAgentSessionId: (issueRef, id) => setAgentSessionId(sql, issueRef, id),
      clearAgentSessionId: (issueRef) => setAgentSessionId(sql, issueRef, null),
      setPullRequest: postgresSetPullRequest(db),
      ...postgresSessionWorkers(db),
      setIssueState: (issueRef, state) => setIssueState(sql, issueRef, state),
      // Under the queue lock: a claim that marks the session used either committed before
      // (and this refuses) or waits until this one has cancelled its pending tasks.
      delete: (issueRef, now = Date.now()) =>
        db.locked('queue', async (tx) => {
          const session = await selectSession(tx, issueRef);
          if (session === null) return;
          if (session.state === 'used')
            throw new OperationError(`session ${issueRef} is in use: stop it first`);
          for (const task of await selectTasks(tx, { states: ['pending'], issueRef })) {
            await markCancelledBeforeRun(tx, task.id, now);
            tx.insertEvent('task_cancelled', task.id, issueRef, { beforeRun: true }, now);
          }
          await deleteSessionRow(tx, issueRef);
        }),
    };

    this.events = {
      list: (filter) => selectEvents(sql, filter),
      markRead: (now = Date.now()) => markEventsRead(sql, now),
      latestId: () => selectLatestEventId(sql),
      cursor: (sink) => selectSinkCursor(sql, sink),
      setCursor: (sink, id) => upsertSinkCursor(sql, sink, id),
    };

    this.intake = {
      upsert: (repo, now = Date.now()) => upsertIntakeRepo(sql, repo, now),
      remove: (serverName, repoPath) => deleteIntakeRepo(sql, serverName, repoPath),
      list: () => selectIntakeRepos(sql),
      saveCursor: (serverName, repoPath, cursor) =>
        updateIntakeCursor(sql, serverName, repoPath, cursor),
    };

    this.meta = {
      get: (key) => selectMeta(sql, key),
      set: (key, value) => upsertMeta(sql, key, value),
      delete: (key) => deleteMeta(sql, key),
    };

    const liveOwner = async (from: PgSql): Promise<ProcessIdentity | null> => {
      const raw = await selectMeta(from, daemonLock);
      if (raw === null) return null;
      const owner = JSON.parse(raw) as ProcessIdentity;
      return ownerAlive(owner) ? owner : null;
    };
    this.locks = {
      ...postgresLeases(db),
      daemonOwner: () => liveOwner(sql),
      acquireDaemon: (me) =>
        db.locked('daemon', async (tx) => {
          const holder = await liveOwner(tx);
          if (holder !== null && !sameProcess(holder, me)) return { ok: false as const, holder };
          await upsertMeta(tx, daemonLock, JSON.stringify(me));
          return { ok: true as const };
        }),
      releaseDaemon: (me) =>
        db.locked('daemon', async (tx) => {
          const raw = await selectMeta(tx, daemonLock);
          if (raw !== null && sameProcess(JSON.parse(raw) as ProcessIdentity, me))
            await deleteMeta(tx, daemonLock);
        }),
    };

    this.approvals = {
      open: (taskId, agent, request, expiresAt, now = Date.now()) =>
        db.transaction(async (tx) => {
          const task = await mustSelectTask(tx, taskId);
          const id = await insertApproval(tx, taskId, agent, request, expiresAt, now);
          tx.insertEvent(
            'approval_requested',
            taskId,
            task.issueRef,
            requestedEventData(id, request),
            now,
          );
          return mustSelectApproval(tx, id);
        }),
      get: (id) => selectApproval(sql, id),
      list: (filter = {}) => selectApprovals(sql, filter),
      hasOpen: (taskId) => hasOpenApproval(sql, taskId),
      // The first answer wins: the conditional UPDATE lets exactly one through, whichever
      // process or machine it comes from; the others read the row as the winner left it.
      resolve: (id, answer, now = Date.now()) =>
        db.transaction(async (tx) => {
          if (!(await resolveIfOpen(tx, id, resolutionOf(answer), now)))
            return { approval: await mustSelectApproval(tx, id), won: false };
          const resolved = await mustSelectApproval(tx, id);
          if (answer.decision === 'allow' && answer.scope === 'task')
            await insertGrant(tx, resolved.taskId, resolved.category, id);
          tx.insertEvent(
            'approval_resolved',
            resolved.taskId,
            resolved.issueRef,
            resolvedEventData(resolved),
            now,
          );
          return { approval: resolved, won: true };
        }),
      grants: (taskId) => selectGrants(sql, taskId),
    };
  }

  /** The server answers and this schema is migrated; PostgreSQL checks its pages itself. */
  async check(): Promise<string> {
    const row = await this.db.sql.get<{ ok: number }>('SELECT 1 AS ok');
    return row?.ok === 1 ? 'ok' : 'PostgreSQL did not answer SELECT 1';
  }

  /**
   * Calls `onWake` whenever work may have become claimable, from any process on any machine
   * (pg-wake.ts), on a connection of its own that reconnects after a drop.
   */
  onWake(onWake: () => void, options?: WakeOptions): Promise<WakeSubscription> {
    return listenForWake(this.db.url, onWake, options);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

async function mustSelectApproval(sql: PgSql, id: number): Promise<Approval> {
  const approval = await selectApproval(sql, id);
  if (approval === null) throw new OperationError(`approval ${id} not found`);
  return approval;
}
