/**
 * The parts of the Store seam that let several machines share one database: workers and their
 * heartbeats, fenced claims and a dead worker's recovery, sessions held by a worker, leadership
 * leases. Every implementation of `StoreApi` provides them; with one machine they stay unused
 * and nothing behaves differently.
 */
import type { Task } from '../domain.js';
import type { WorkerInfo, WorkerRecord } from './fleet.js';

export interface WorkerRecords {
  /** Records that `worker` is alive at `now` (its row is made on the first beat). */
  heartbeat(worker: WorkerInfo, now?: number): Promise<void>;
  list(): Promise<WorkerRecord[]>;
  /** Workers silent for longer than `leaseMs`: dead, their tasks to be recovered. */
  expired(leaseMs: number, now?: number): Promise<WorkerRecord[]>;
}

export interface FencedClaims {
  /** Whether the claim that handed out `fence` still holds `taskId`. */
  isCurrent(taskId: number, fence: number): Promise<boolean>;
  /**
   * A dead worker's running tasks are ended as crash recovery ends them (interrupted, or
   * cancelled when a stop was asked for), in one transaction: their slots are released and
   * with them their fencing tokens. The tasks as they are now.
   */
  recoverWorker(name: string, now?: number): Promise<Task[]>;
}

export interface SessionWorkers {
  /** The worker whose machine holds the session's worktree; null: any (one machine). */
  workerOf(issueRef: string): Promise<string | null>;
  /** Moves a session to `worker` (null: any); its follow-ups are claimed there. */
  setWorker(issueRef: string, worker: string | null): Promise<void>;
}

/** Named leases with a term: one bot, one API for the whole fleet. */
export interface LeaseRecords {
  /** Takes or renews `name` for `ttlMs` when it is free, expired or already `holder`'s. */
  acquireLease(name: string, holder: string, ttlMs: number, now?: number): Promise<boolean>;
  /** Gives `name` up, if `holder` has it. */
  releaseLease(name: string, holder: string): Promise<void>;
  leaseHolder(name: string, now?: number): Promise<string | null>;
}
