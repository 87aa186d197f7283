/**
 * The Store seam on one SQLite file: the embedded default. better-sqlite3 is synchronous, so
 * each method does its work (one transaction where it writes more than one row) and returns a
 * settled promise; callers cannot tell it from a networked store.
 */
import { OperationError } from '../../errors.js';
import { isAlive, sameProcess, type ProcessIdentity } from '../../process-info.js';
import { ApprovalRecords } from '../approval-records.js';
import type { WorkerRecords } from '../fleet-interface.js';
import type {
  ApiTokenRecords,
  EventRecords,
  IntakeRecords,
  LockRecords,
  MetaRecords,
  RunRecords,
  ServerRecords,
  SessionRecords,
  StoreApi,
} from '../store-interface.js';
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
  sqliteLeases,
  sqliteSessionWorkers,
  sqliteSetPullRequest,
  sqliteWorkers,
} from './sqlite-fleet.js';
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
import { sqliteApiTokens } from './api-token-sql.js';
import { SqliteDb } from './sqlite-db.js';
import { sqliteClaims, sqliteTasks } from './sqlite-tasks.js';
import { markCancelledBeforeRun, mustSelectTask, selectTasks } from './task-sql.js';

const DAEMON_LOCK = 'daemon_owner';

export function openSqliteStore(file: string): SqliteStore {
  return new SqliteStore(SqliteDb.open(file));
}

export class SqliteStore implements StoreApi {
  readonly servers: ServerRecords;
  readonly tasks;
  readonly claims;
  readonly runs: RunRecords;
  readonly sessions: SessionRecords;
  readonly events: EventRecords;
  readonly intake: IntakeRecords;
  readonly locks: LockRecords;
  readonly meta: MetaRecords;
  readonly approvals;
  readonly apiTokens: ApiTokenRecords;
  readonly workers: WorkerRecords;
  /** The approvals table's own API, synchronous: the attempt's end closes its rows in-transaction. */
  private readonly approvalRows: ApprovalRecords;

  constructor(readonly db: SqliteDb) {
    // A thunk, not a value: a throw becomes a rejected promise, as with any async store.
    const done = <T>(fn: () => T): Promise<T> => new Promise((resolve) => resolve(fn()));
    this.approvalRows = new ApprovalRecords({
      stmt: (sql) => db.statement(sql),
      immediate: (fn) => db.immediate(fn),
      insertEvent: (type, taskId, issueRef, data, now) =>
        db.insertEvent(type, taskId, issueRef, data, now),
    });
    const rows = this.approvalRows;
    this.approvals = {
      open: (taskId: number, agent: string, request, expiresAt: number, now?: number) =>
        done(() => rows.open(taskId, agent, request, expiresAt, now)),
      get: (id: number) => done(() => rows.get(id)),
      list: (filter?: { all?: boolean; taskId?: number }) => done(() => rows.list(filter)),
      hasOpen: (taskId: number) => done(() => rows.hasOpen(taskId)),
      resolve: (id: number, answer, now?: number) => done(() => rows.resolve(id, answer, now)),
      grants: (taskId: number) => done(() => rows.grants(taskId)),
    } satisfies StoreApi['approvals'];
    this.tasks = sqliteTasks(db, rows);
    this.claims = sqliteClaims(db, rows);
    this.apiTokens = sqliteApiTokens(db, done);
    this.workers = sqliteWorkers(db);

    this.servers = {
      list: () => done(() => selectServers(db)),
      get: (name) => done(() => selectServer(db, name)),
      add: (server) =>
        done(() =>
          db.immediate(() => {
            if (selectServer(db, server.name) !== null)
              throw new OperationError(`server ${server.name} already exists: remove it first`);
            const first = selectServers(db).length === 0;
            insertServer(db, server, server.isDefault || first);
            if (server.isDefault) markDefaultServer(db, server.name);
          }),
        ),
      remove: (name) => done(() => deleteServer(db, name)),
      setDefault: (name) =>
        done(() =>
          db.immediate(() => {
            if (selectServer(db, name) === null)
              throw new OperationError(`server ${name} not found`);
            markDefaultServer(db, name);
          }),
        ),
    };

    this.runs = {
      start: (taskId, attempt, mode, transcript, now = Date.now()) =>
        done(() => insertRun(db, taskId, attempt, mode, transcript, now)),
      markSpawned: (runId, taskId, pid, now = Date.now()) =>
        done(() =>
          db.immediate(() => {
            setRunPid(db, runId, pid);
            const task = mustSelectTask(db, taskId);
            db.insertEvent(
              'task_started',
              taskId,
              task.issueRef,
              { attempt: task.attempts, maxAttempts: task.maxAttempts },
              now,
            );
          }),
        ),
      recordUsage: (runId, usage) => done(() => setRunUsage(db, runId, usage)),
      budgetTokensSince: (since) => done(() => sumBudgetTokensSince(db, since)),
      list: (taskId) => done(() => selectRuns(db, taskId)),
      latest: (limit) => done(() => selectLatestRuns(db, limit)),
    };

    this.sessions = {
      get: (issueRef) => done(() => selectSession(db, issueRef)),
      list: ({ all }) => done(() => selectSessions(db, all)),
      listWithTask: ({ all }) => done(() => selectSessionsWithTask(db, all)),
      setAgentSessionId: (issueRef, id) => done(() => setAgentSessionId(db, issueRef, id)),
      clearAgentSessionId: (issueRef) => done(() => setAgentSessionId(db, issueRef, null)),
      setPullRequest: sqliteSetPullRequest(db),
      setIssueState: (issueRef, state) => done(() => setIssueState(db, issueRef, state)),
      ...sqliteSessionWorkers(db),
      delete: (issueRef, now = Date.now()) =>
        done(() =>
          db.immediate(() => {
            const session = selectSession(db, issueRef);
            if (session === null) return;
            if (session.state === 'used')
              throw new OperationError(`session ${issueRef} is in use: stop it first`);
            for (const task of selectTasks(db, { states: ['pending'], issueRef })) {
              markCancelledBeforeRun(db, task.id, now);
              db.insertEvent('task_cancelled', task.id, issueRef, { beforeRun: true }, now);
            }
            deleteSessionRow(db, issueRef);
          }),
        ),
    };

    this.events = {
      list: (filter) => done(() => selectEvents(db, filter)),
      markRead: (now = Date.now()) => done(() => markEventsRead(db, now)),
      latestId: () => done(() => selectLatestEventId(db)),
      cursor: (sink) => done(() => selectSinkCursor(db, sink)),
      setCursor: (sink, id) => done(() => upsertSinkCursor(db, sink, id)),
    };

    this.intake = {
      upsert: (repo, now = Date.now()) =>
        done(() => {
          upsertIntakeRepo(db, repo, now);
          const saved = selectIntakeRepos(db).find(
            (r) => r.serverName === repo.serverName && r.repoPath === repo.repoPath,
          );
          if (saved === undefined) throw new Error('intake repository vanished after its insert');
          return saved;
        }),
      remove: (serverName, repoPath) => done(() => deleteIntakeRepo(db, serverName, repoPath)),
      list: () => done(() => selectIntakeRepos(db)),
      saveCursor: (serverName, repoPath, cursor) =>
        done(() => updateIntakeCursor(db, serverName, repoPath, cursor)),
    };

    this.meta = {
      get: (key) => done(() => selectMeta(db, key)),
      set: (key, value) => done(() => upsertMeta(db, key, value)),
      delete: (key) => done(() => deleteMeta(db, key)),
    };

    const liveOwner = (): ProcessIdentity | null => {
      const raw = selectMeta(db, DAEMON_LOCK);
      if (raw === null) return null;
      const owner = JSON.parse(raw) as ProcessIdentity;
      return isAlive(owner) ? owner : null;
    };
    this.locks = {
      ...sqliteLeases(db),
      daemonOwner: () => done(() => liveOwner()),
      acquireDaemon: (me) =>
        done(() =>
          db.immediate(() => {
            const holder = liveOwner();
            if (holder !== null && !sameProcess(holder, me)) return { ok: false as const, holder };
            upsertMeta(db, DAEMON_LOCK, JSON.stringify(me));
            return { ok: true as const };
          }),
        ),
      releaseDaemon: (me) =>
        done(() =>
          db.immediate(() => {
            const raw = selectMeta(db, DAEMON_LOCK);
            if (raw !== null && sameProcess(JSON.parse(raw) as ProcessIdentity, me))
              deleteMeta(db, DAEMON_LOCK);
          }),
        ),
    };
  }

  check(): Promise<string> {
    return Promise.resolve(String(this.db.raw.pragma('quick_check', { simple: true })));
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
