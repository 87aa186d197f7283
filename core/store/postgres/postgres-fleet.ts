/**
 * Several machines on one PostgreSQL database: workers' heartbeats, sessions held by a worker,
 * fenced writes to a session, leadership leases. The judgements are the shared pure ones
 * (../fleet.ts); what this adds is how they are kept apart from concurrent writers.
 */
import type { SessionPullRequest } from '../../domain.js';
import { OperationError } from '../../errors.js';
import { currentHolder, mayTakeLease, staleFenceMessage, workerAlive } from '../fleet.js';
import type { LeaseRecords, SessionWorkers, WorkerRecords } from '../fleet-interface.js';
import type { PgDb } from './pg-db.js';
import { setPullRequest } from './session-sql.js';
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

export function postgresWorkers(db: PgDb): WorkerRecords {
  return {
    heartbeat: (worker, now = Date.now()) => upsertWorker(db.sql, worker, now),
    list: () => selectWorkers(db.sql),
    expired: async (leaseMs, now = Date.now()) =>
      (await selectWorkers(db.sql)).filter((w) => !workerAlive(w.lastSeen, leaseMs, now)),
  };
}

export function postgresSessionWorkers(db: PgDb): SessionWorkers {
  return {
    workerOf: (issueRef) => selectSessionWorker(db.sql, issueRef),
    setWorker: async (issueRef, worker) => {
      if ((await setSessionWorker(db.sql, issueRef, worker)) === 0)
        throw new OperationError(`session ${issueRef} not found`);
    },
  };
}

/**
 * `sessions.setPullRequest`, refused when `fence` is given and no longer holds the session. The
 * check locks the slot FOR SHARE: a recovery deleting it waits until this write has committed.
 */
export function postgresSetPullRequest(
  db: PgDb,
): (issueRef: string, pr: SessionPullRequest, fence?: number) => Promise<void> {
  return (issueRef, pr, fence) =>
    fence === undefined
      ? setPullRequest(db.sql, issueRef, pr)
      : db.transaction(async (tx) => {
          if (!(await sessionSlotHoldsFence(tx, issueRef, fence)))
            throw new OperationError(staleFenceMessage(`session ${issueRef}`, fence));
          await setPullRequest(tx, issueRef, pr);
        });
}

/**
 * Leases are judged under the leases lock: of holders asking at once, from any machine, each
 * reads the row only after the one before has written it, so at most one is told it holds it.
 */
export function postgresLeases(db: PgDb): LeaseRecords {
  return {
    acquireLease: (name, holder, ttlMs, now = Date.now()) =>
      db.locked('leases', async (tx) => {
        if (!mayTakeLease(await selectLease(tx, name), holder, now)) return false;
        await upsertLease(tx, name, { holder, expiresAt: now + ttlMs });
        return true;
      }),
    releaseLease: (name, holder) => deleteLeaseOf(db.sql, name, holder),
    leaseHolder: async (name, now = Date.now()) =>
      currentHolder(await selectLease(db.sql, name), now),
  };
}
