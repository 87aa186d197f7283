/**
 * Several machines on one SQLite file: workers' heartbeats, sessions held by a worker, fenced
 * writes to a session, leadership leases. SQLite is one machine's database, so with it these
 * matter to tests and to several daemons of one home; the judgements are the shared pure ones.
 */
import type { SessionPullRequest } from '../../domain.js';
import { OperationError } from '../../errors.js';
import { currentHolder, mayTakeLease, staleFenceMessage, workerAlive } from '../fleet.js';
import type { LeaseRecords, SessionWorkers, WorkerRecords } from '../fleet-interface.js';
import { setPullRequest } from './session-sql.js';
import type { SqliteDb } from './sqlite-db.js';
import { settled } from './sqlite-tasks.js';
import {
  deleteLeaseOf,
  selectLease,
  selectSessionWorker,
  selectWorkers,
  sessionSlotHoldsFence,
  setSessionWorker,
  upsertLease,
  upsertWorker,
} from './worker-sql.js';

export function sqliteWorkers(db: SqliteDb): WorkerRecords {
  return {
    heartbeat: (worker, now = Date.now()) => settled(() => upsertWorker(db, worker, now)),
    list: () => settled(() => selectWorkers(db)),
    expired: (leaseMs, now = Date.now()) =>
      settled(() => selectWorkers(db).filter((w) => !workerAlive(w.lastSeen, leaseMs, now))),
  };
}

export function sqliteSessionWorkers(db: SqliteDb): SessionWorkers {
  return {
    workerOf: (issueRef) => settled(() => selectSessionWorker(db, issueRef)),
    setWorker: (issueRef, worker) =>
      settled(() => {
        if (setSessionWorker(db, issueRef, worker) === 0)
          throw new OperationError(`session ${issueRef} not found`);
      }),
  };
}

/** `sessions.setPullRequest`, refused when `fence` is given and no longer holds the session. */
export function sqliteSetPullRequest(
  db: SqliteDb,
): (issueRef: string, pr: SessionPullRequest, fence?: number) => Promise<void> {
  return (issueRef, pr, fence) =>
    settled(() =>
      db.immediate(() => {
        if (fence !== undefined && !sessionSlotHoldsFence(db, issueRef, fence))
          throw new OperationError(staleFenceMessage(`session ${issueRef}`, fence));
        setPullRequest(db, issueRef, pr);
      }),
    );
}

export function sqliteLeases(db: SqliteDb): LeaseRecords {
  return {
    acquireLease: (name, holder, ttlMs, now = Date.now()) =>
      settled(() =>
        db.immediate(() => {
          if (!mayTakeLease(selectLease(db, name), holder, now)) return false;
          upsertLease(db, name, { holder, expiresAt: now + ttlMs });
          return true;
        }),
      ),
    releaseLease: (name, holder) => settled(() => deleteLeaseOf(db, name, holder)),
    leaseHolder: (name, now = Date.now()) =>
      settled(() => currentHolder(selectLease(db, name), now)),
  };
}
