/**
 * The daemon as one worker of a fleet (KUGETSU_DATABASE_URL): it heartbeats, notices the claims
 * it lost while it was silent, and recovers the running tasks of workers silent past their
 * lease. The judgements are pure (store/fleet.ts); this is their clock.
 */
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { DatabaseUnreachableError, errorMessage } from '../errors.js';
import type { HomeContext } from '../home-context.js';
import { isAlive } from '../process-info.js';
import type { FleetMembership } from '../store/open-store.js';
import { endOrphanedAgent } from './orphan-recovery.js';

export interface FleetWorkerHooks {
  log(line: string): void;
  /** Running tasks and the fencing tokens they were claimed with. */
  fences(): ReadonlyMap<number, number>;
  /** These running tasks' claims were recovered elsewhere: stop them, publish nothing. */
  lost(taskIds: number[]): void;
  /** Tasks came back to the queue, or the database is reachable again: dispatch. */
  changed(): void;
}

// A few beats per lease, so one late beat does not make a live worker look dead.
const BEATS_PER_LEASE = 3;
const RETRY_MS = 500;

export class FleetWorker {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> = Promise.resolve();
  private lastBeat: number | null = null;
  /** Since when beats have gone through without a gap longer than a lease; null: out of reach. */
  private connectedSince: number | null = null;
  private stopped = false;

  constructor(
    private readonly ctx: HomeContext,
    private readonly fleet: FleetMembership,
    private readonly hooks: FleetWorkerHooks,
  ) {}

  /** The first beat must go through: a worker that cannot reach the database does not start. */
  async start(): Promise<void> {
    await this.heartbeat();
    const every = Math.max(100, Math.floor(this.fleet.leaseMs / BEATS_PER_LEASE));
    this.timer = setInterval(() => {
      this.beating = this.beating.then(() => this.beat());
    }, every);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.beating;
  }

  private heartbeat(): Promise<void> {
    return this.ctx.store.workers.heartbeat({
      name: this.fleet.worker,
      host: hostname(),
      pid: process.pid,
      maxAgents: this.ctx.config.maxConcurrentAgents,
    });
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const { leaseMs } = this.fleet;
    try {
      await this.heartbeat();
    } catch (err) {
      if (this.connectedSince !== null)
        this.hooks.log(`heartbeat failed, the database is out of reach: ${errorMessage(err)}`);
      this.connectedSince = null;
      return;
    }
    const now = Date.now();
    // Silent past a lease ourselves (paused, cut off): we may have lost claims, and every other
    // worker gets a lease to be heard again before we judge it.
    if (this.connectedSince === null || (this.lastBeat !== null && now - this.lastBeat > leaseMs)) {
      if (this.lastBeat !== null) this.hooks.log('heartbeat resumed');
      this.connectedSince = now;
      this.hooks.changed();
    }
    this.lastBeat = now;
    try {
      await this.checkOwnClaims();
      if (now - this.connectedSince > leaseMs) await this.recoverDeadWorkers();
    } catch (err) {
      this.hooks.log(`fleet check failed: ${errorMessage(err)}`);
    }
  }

  private async checkOwnClaims(): Promise<void> {
    const lost: number[] = [];
    for (const [taskId, fence] of this.hooks.fences())
      if (!(await this.ctx.store.claims.isCurrent(taskId, fence))) lost.push(taskId);
    if (lost.length === 0) return;
    this.hooks.log(
      `lost the claims on ${lost.map((id) => `#${id}`).join(', ')} while silent past the lease: stopping them, publishing nothing`,
    );
    this.hooks.lost(lost);
  }

  private async recoverDeadWorkers(): Promise<void> {
    const { store } = this.ctx;
    for (const dead of await store.workers.expired(this.fleet.leaseMs)) {
      if (dead.name === this.fleet.worker || dead.taskIds.length === 0) continue;
      if (dead.host === hostname()) await this.endAgentsLeftHere(dead.taskIds);
      const tasks = await store.claims.recoverWorker(dead.name);
      if (tasks.length === 0) continue;
      this.hooks.log(
        `worker ${dead.name} silent past its lease: recovered ${tasks.map((t) => `#${t.id}`).join(', ')}`,
      );
      this.hooks.changed();
    }
  }

  /**
   * A dead worker on this very host whose daemon is gone (killed, crashed) left its agents
   * running: they are ended before their tasks can start again, so none runs twice at once. One
   * whose daemon still lives (paused) is left to its fencing: it can publish nothing.
   */
  private async endAgentsLeftHere(taskIds: number[]): Promise<void> {
    for (const slot of await this.ctx.store.claims.list()) {
      if (!taskIds.includes(slot.taskId) || isAlive(slot.owner)) continue;
      await endOrphanedAgent(slot.taskId, slot.agent, this.ctx.config.killGraceMs, (line) =>
        this.hooks.log(line),
      );
    }
  }
}

/**
 * Retries a call while the database is out of reach (the network split, a restart): an
 * attempt's writes, its end above all, must land once it is back, not be lost. Anything else
 * (a refusal, a failed statement) is not retried.
 */
export async function persistThroughOutages<T>(
  write: () => Promise<T>,
  stopping: () => boolean,
): Promise<T> {
  for (;;) {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof DatabaseUnreachableError) || stopping()) throw err;
    }
    await delay(RETRY_MS);
  }
}
