/** `workers`, `session move`, and the fleet's lines in `status` and `doctor`. */
import { OperationError } from '../errors.js';
import type { HomeContext } from '../home-context.js';
import { workerAlive, type WorkerRecord } from '../store/fleet.js';
import type { FleetMembership } from '../store/open-store.js';
import { getSession } from './sessions.js';

export interface WorkerView extends WorkerRecord {
  /** Heard from within the lease. */
  alive: boolean;
  /** The worker this process runs as. */
  self: boolean;
}

export interface FleetView {
  worker: string;
  leaseMs: number;
  globalMaxAgents: number | null;
  workers: WorkerView[];
}

/** Every worker of the shared database, judged against the lease; null with one machine. */
export async function fleetView(ctx: HomeContext, now = Date.now()): Promise<FleetView | null> {
  const fleet = ctx.fleet;
  if (fleet === null) return null;
  const workers = (await ctx.store.workers.list()).map((w) => ({
    ...w,
    alive: workerAlive(w.lastSeen, fleet.leaseMs, now),
    self: w.name === fleet.worker,
  }));
  return {
    worker: fleet.worker,
    leaseMs: fleet.leaseMs,
    globalMaxAgents: fleet.globalMaxAgents ?? null,
    workers,
  };
}

/** One line per worker, for `workers`, `status` and `doctor`. Pure. */
export function workerLine(w: WorkerView, now: number): string {
  const seen = Math.max(0, Math.round((now - w.lastSeen) / 1000));
  const running = w.taskIds.length === 0 ? 'idle' : w.taskIds.map((id) => `#${id}`).join(' ');
  const state = w.alive ? 'alive' : 'dead';
  return `${w.name}${w.self ? ' (this machine)' : ''}: ${state}, ${w.host} pid ${w.pid}, ${w.taskIds.length}/${w.maxAgents} agents (${running}), heartbeat ${seen}s ago`;
}

function requireFleet(ctx: HomeContext): FleetMembership {
  if (ctx.fleet === null)
    throw new OperationError(
      'this home runs on one machine: set KUGETSU_DATABASE_URL to share a database between workers (docs/scale-out.md)',
    );
  return ctx.fleet;
}

/**
 * Hands a session to another worker: its follow-ups are claimed there, where the worktree is
 * made again from the pushed branch. Refused while it runs, and for a worker never seen.
 */
export async function moveSession(
  ctx: HomeContext,
  refInput: string,
  worker: string,
): Promise<{ issueRef: string; from: string | null; to: string }> {
  requireFleet(ctx);
  const session = await getSession(ctx, refInput);
  if ((await ctx.store.tasks.latestFor(session.issueRef))?.state === 'running')
    throw new OperationError(`session ${session.issueRef} is running: stop it first`);
  if (!(await ctx.store.workers.list()).some((w) => w.name === worker))
    throw new OperationError(`worker ${worker} not found: see \`kugetsu workers\``);
  const from = await ctx.store.sessions.workerOf(session.issueRef);
  await ctx.store.sessions.setWorker(session.issueRef, worker);
  return { issueRef: session.issueRef, from, to: worker };
}
