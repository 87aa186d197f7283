/**
 * Several machines on one database: the shapes of workers, fenced claims and leases, and the
 * judgements about them as pure functions. Both engines read their inputs, apply these and
 * write the outcome in one transaction, so the judgement and the state it acts on cannot drift.
 */
import type { Task, TaskKind } from '../domain.js';
import {
  planDispatch,
  type DispatchPlan,
  type PendingTaskView,
} from '../scheduler/dispatch-plan.js';
import type { AttemptOutcome, ClaimParams, ClaimResult } from './records.js';

/** A machine running `kugetsu daemon` against the shared database, as it reports itself. */
export interface WorkerInfo {
  name: string;
  host: string;
  pid: number;
  /** Its per-host cap (its own MAX_CONCURRENT_AGENTS). */
  maxAgents: number;
}

export interface WorkerRecord extends WorkerInfo {
  /** Epoch ms of its latest heartbeat. */
  lastSeen: number;
  /** The tasks whose slots it holds. */
  taskIds: number[];
}

/**
 * How long a silent worker still counts as alive when the caller names no lease: its sessions
 * stay its own for that long after its last heartbeat.
 */
export const DEFAULT_WORKER_LEASE_MS = 60_000;

export interface FleetClaimParams extends ClaimParams {
  /**
   * The claiming worker. The per-host cap (`maxAgents`) then counts its slots alone, and it
   * takes the sessions it claims for. Unset: one machine, every slot counts, as before.
   */
  worker?: string;
  /** A cap over every worker's slots; unset, none. */
  globalMaxAgents?: number;
  /** How long another worker's heartbeat keeps its sessions its own (DEFAULT_WORKER_LEASE_MS). */
  leaseMs?: number;
}

/**
 * A claimed task with its fencing token: a number handed out once per claim, in increasing
 * order, kept on the slot for as long as the claim holds. Writes that settle or publish for the
 * task can present it; once the slot is released or recovered, they are refused.
 */
export type ClaimedTask = Task & { fence: number };

export interface FleetClaimResult extends ClaimResult {
  claimed: ClaimedTask[];
}

/** Alive: heard from within the lease. */
export function workerAlive(lastSeen: number, leaseMs: number, now: number): boolean {
  return now - lastSeen <= leaseMs;
}

/**
 * The cap and the slot count the dispatch planner should see: of the per-host cap (this
 * worker's slots) and the global cap (every slot), whichever leaves less room. The planner adds
 * one slot per claim and stops at the cap, so it claims no more than the smaller room.
 */
export function bindingCap(
  caps: { maxAgents: number; globalMaxAgents?: number | undefined },
  slots: { mine: number; all: number },
): { maxAgents: number; slotsHeld: number } {
  const host = { maxAgents: caps.maxAgents, slotsHeld: slots.mine };
  if (caps.globalMaxAgents === undefined) return host;
  const global = { maxAgents: caps.globalMaxAgents, slotsHeld: slots.all };
  return global.maxAgents - global.slotsHeld < host.maxAgents - host.slotsHeld ? global : host;
}

/** A pending task and the worker whose machine holds its session's worktree, if any. */
export interface PendingPlacement {
  id: number;
  /** The session's worker, and its latest heartbeat (null: no such worker row). */
  sessionWorker: string | null;
  workerLastSeen: number | null;
}

/**
 * Why each pending task waits for another machine: its session's worktree is on a live worker
 * that is not `me`. A session of no worker, of `me`, or of a worker gone silent is anyone's.
 */
export function heldElsewhere(
  pending: readonly PendingPlacement[],
  me: string | null,
  leaseMs: number,
  now: number,
): Map<number, string> {
  const waiting = new Map<number, string>();
  for (const p of pending) {
    if (p.sessionWorker === null || p.sessionWorker === me || p.workerLastSeen === null) continue;
    if (workerAlive(p.workerLastSeen, leaseMs, now))
      waiting.set(p.id, `its session's worktree is on worker ${p.sessionWorker}`);
  }
  return waiting;
}

export interface ClaimInputs {
  now: number;
  /** Dev-agent slots held: by the claiming worker (all of them when it names none), and by all. */
  slots: { mine: number; all: number };
  running: readonly { kind: TaskKind; issueRef: string | null }[];
  /** Pending tasks, oldest first. */
  pending: readonly PendingTaskView[];
  /** The pending tasks whose session names a worker. */
  placements: readonly PendingPlacement[];
}

/**
 * The claim's plan: the dispatch planner's, under the cap that binds, over the pending tasks
 * no other live worker holds the worktree of; those wait for it, and say so.
 */
export function planClaim(params: FleetClaimParams, input: ClaimInputs): DispatchPlan {
  const leaseMs = params.leaseMs ?? DEFAULT_WORKER_LEASE_MS;
  const elsewhere = heldElsewhere(input.placements, params.worker ?? null, leaseMs, input.now);
  const plan = planDispatch({
    now: input.now,
    ...bindingCap(params, input.slots),
    busyRefs: new Set(input.running.flatMap((t) => (t.issueRef === null ? [] : [t.issueRef]))),
    pmRunning: input.running.some((t) => t.kind === 'pm'),
    pending: input.pending.filter((p) => !elsewhere.has(p.id)),
    availableMemoryMb: params.availableMemoryMb,
    minFreeMemoryMb: params.minFreeMemoryMb,
  });
  for (const [id, reason] of elsewhere) plan.waiting.set(id, reason);
  return plan;
}

/**
 * How crash recovery ends an attempt its owner left: a stop asked for meanwhile is honoured,
 * anything else is interrupted (not the task's fault: it goes back to the queue and resumes).
 */
export function recoveryOutcome(task: Task): AttemptOutcome {
  return { kind: task.cancelRequested ? 'cancelled' : 'interrupted', agentSessionId: null };
}

/** The run an interrupted attempt left open: its latest, unless that one finished. */
export function openRunId(
  runs: readonly { id: number; finishedAt: number | null }[],
): number | null {
  const run = runs.at(-1);
  return run !== undefined && run.finishedAt === null ? run.id : null;
}

export interface LeaseRecord {
  holder: string;
  expiresAt: number;
}

/** A lease may be taken when nobody holds it, its term has run out, or `holder` has it already. */
export function mayTakeLease(current: LeaseRecord | null, holder: string, now: number): boolean {
  return current === null || current.holder === holder || current.expiresAt <= now;
}

/** The holder while the term runs; nobody after it. */
export function currentHolder(current: LeaseRecord | null, now: number): string | null {
  return current !== null && current.expiresAt > now ? current.holder : null;
}

/** What a write presenting a stale fencing token is told. */
export function staleFenceMessage(what: string, fence: number): string {
  return `${what} moved on: claim ${fence} no longer holds it (it was recovered, or settled, and may run elsewhere)`;
}
