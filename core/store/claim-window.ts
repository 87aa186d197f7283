/**
 * A claim reads the head of the queue, not all of it: with ten thousand tasks queued, reading
 * (and writing a wait reason for) every one of them on every claim made each claim cost more
 * the longer the queue. The window is read in pages of pending tasks in claim order, one kind at
 * a time, and paging stops as soon as reading further could not change what the claim takes:
 * the slots are filled, memory is short, or the kind's pending tasks are all read. A window of
 * unclaimable tasks (sessions already busy, backoff, worktrees on another machine) is paged
 * past, so a claimable task behind it is still found.
 *
 * The walk is a generator: it asks for pages and decides, while each engine answers its
 * requests in its own transaction (SQLite synchronously, PostgreSQL with awaits), so both apply
 * one judgement.
 */
import type { TaskKind } from '../domain.js';
import type { DispatchPlan, PendingTaskView } from '../scheduler/dispatch-plan.js';
import { bindingCap, planClaim, type ClaimInputs, type FleetClaimParams } from './fleet.js';

/** A pending task as the claim reads it: what the planner needs, and what it recorded last. */
export interface PendingRow extends PendingTaskView {
  waitReason: string | null;
  /** The worker whose machine holds the task's session worktree, and its latest heartbeat. */
  sessionWorker: string | null;
  workerLastSeen: number | null;
}

/** The next page the walk needs: pending tasks of `kind` with an id above `afterId`. */
export interface PageRequest {
  kind: TaskKind;
  afterId: number;
  limit: number;
}

export interface ClaimWindow {
  plan: DispatchPlan;
  /** Every pending task read, in claim order. */
  read: PendingRow[];
  /** Per kind, the last id read when more of that kind may lie beyond it (null: none). */
  beyond: Record<TaskKind, number | null>;
}

/** The fewest tasks a page holds: enough to say why the head waits even with no slot free. */
export const MIN_PAGE = 32;

/** A page holds a few tasks per free slot, so one page is enough unless most of it waits. */
export function pageSize(room: number): number {
  return Math.max(MIN_PAGE, room * 4);
}

const KINDS: readonly TaskKind[] = ['dev', 'pm'];

type Fixed = Omit<ClaimInputs, 'pending' | 'placements'>;

export function* claimWindow(
  params: FleetClaimParams,
  fixed: Fixed,
): Generator<PageRequest, ClaimWindow, PendingRow[]> {
  const cap = bindingCap(params, fixed.slots);
  const room = cap.maxAgents - cap.slotsHeld;
  const limit = pageSize(room);
  const pmRunning = fixed.running.some((t) => t.kind === 'pm');
  const read: PendingRow[] = [];
  const after: Record<TaskKind, number> = { dev: 0, pm: 0 };
  /** The kind's last page was full: more of it may lie beyond. */
  const full: Record<TaskKind, boolean> = { dev: true, pm: true };
  const want: Record<TaskKind, boolean> = { dev: true, pm: true };
  for (;;) {
    for (const kind of KINDS) {
      if (!want[kind] || !full[kind]) continue;
      const page = yield { kind, afterId: after[kind], limit };
      read.push(...page);
      after[kind] = page.at(-1)?.id ?? after[kind];
      full[kind] = page.length === limit;
    }
    read.sort((a, b) => a.id - b.id);
    const plan = planClaim(params, {
      ...fixed,
      pending: read,
      placements: read.filter((r) => r.sessionWorker !== null),
    });
    const claimed = new Set(plan.claim);
    const took = (kind: TaskKind): number =>
      read.filter((r) => r.kind === kind && claimed.has(r.id)).length;
    want.dev = took('dev') < room && !plan.memoryBlocked;
    want.pm = !pmRunning && took('pm') === 0;
    if (KINDS.every((kind) => !want[kind] || !full[kind]))
      return {
        plan,
        read,
        beyond: { dev: full.dev ? after.dev : null, pm: full.pm ? after.pm : null },
      };
  }
}

/** The wait reasons that changed among the tasks read (null: it no longer waits). */
export function changedReasons(window: ClaimWindow): { id: number; reason: string | null }[] {
  return window.read.flatMap((p) => {
    const reason = window.plan.waiting.get(p.id) ?? null;
    return reason === p.waitReason ? [] : [{ id: p.id, reason }];
  });
}

/** Walks the window with a synchronous reader (SQLite, inside its transaction). */
export function walkSync(
  walk: Generator<PageRequest, ClaimWindow, PendingRow[]>,
  readPage: (request: PageRequest) => PendingRow[],
): ClaimWindow {
  let step = walk.next([]);
  while (step.done !== true) step = walk.next(readPage(step.value));
  return step.value;
}

/** Walks the window with an asynchronous reader (PostgreSQL, inside its transaction). */
export async function walk(
  walk: Generator<PageRequest, ClaimWindow, PendingRow[]>,
  readPage: (request: PageRequest) => Promise<PendingRow[]>,
): Promise<ClaimWindow> {
  let step = walk.next([]);
  while (step.done !== true) step = walk.next(await readPage(step.value));
  return step.value;
}
