import { describe, expect, it } from 'vitest';
import {
  MIN_PAGE,
  changedReasons,
  claimWindow,
  walkSync,
  type PageRequest,
  type PendingRow,
} from '../core/store/claim-window.js';
import type { FleetClaimParams } from '../core/store/fleet.js';
import { withPlaceInLine } from '../core/scheduler/place-in-line.js';
import type { Task } from '../core/domain.js';

const me = { pid: 1, start: 'x' };
const params: FleetClaimParams = {
  owner: me,
  maxAgents: 2,
  availableMemoryMb: null,
  minFreeMemoryMb: 0,
};

const row = (id: number, extra: Partial<PendingRow> = {}): PendingRow => ({
  id,
  kind: 'dev',
  issueRef: `h/o/r#${id}`,
  notBefore: null,
  waitReason: null,
  sessionWorker: null,
  workerLastSeen: null,
  ...extra,
});

/** Walks a queue held in memory, recording each page asked for. */
function walkQueue(
  queue: PendingRow[],
  opts: { params?: FleetClaimParams; slots?: number; pmRunning?: boolean } = {},
) {
  const pages: PageRequest[] = [];
  const slots = opts.slots ?? 0;
  const window = walkSync(
    claimWindow(opts.params ?? params, {
      now: 1_000,
      slots: { mine: slots, all: slots },
      running: opts.pmRunning === true ? [{ kind: 'pm', issueRef: null }] : [],
    }),
    (page) => {
      pages.push(page);
      return queue.filter((r) => r.kind === page.kind && r.id > page.afterId).slice(0, page.limit);
    },
  );
  return { window, pages };
}

const many = (n: number, make: (id: number) => PendingRow = row): PendingRow[] =>
  Array.from({ length: n }, (_, i) => make(i + 1));

describe('claimWindow', () => {
  it('reads one page of each kind when the head of a long queue fills the slots', () => {
    const { window, pages } = walkQueue(many(10_000));
    expect(window.plan.claim).toEqual([1, 2]);
    expect(pages).toEqual([
      { kind: 'dev', afterId: 0, limit: MIN_PAGE },
      { kind: 'pm', afterId: 0, limit: MIN_PAGE },
    ]);
    expect(window.read).toHaveLength(MIN_PAGE);
    expect(window.beyond).toEqual({ dev: MIN_PAGE, pm: null });
    expect(window.plan.waiting.get(3)).toBe('at capacity (2/2 agents running)');
  });

  it('pages past tasks of a busy session and in backoff to the claimable ones behind them', () => {
    const queue = many(200, (id) =>
      id <= 100
        ? row(id, { issueRef: 'h/o/r#busy' })
        : id <= 190
          ? row(id, { notBefore: 5_000 + id })
          : row(id),
    );
    const { window, pages } = walkQueue(queue, {
      params: { ...params, maxAgents: 3 },
      slots: 0,
    });
    // One of the busy session's tasks runs: the rest wait for it.
    expect(window.plan.claim).toEqual([1, 191, 192]);
    expect(pages.filter((p) => p.kind === 'dev').map((p) => p.afterId)).toEqual([
      0, 32, 64, 96, 128, 160,
    ]);
    expect(window.plan.nextWakeAt).toBe(5_101);
    // The last page read was full: the reasons recorded past it are forgotten.
    expect(window.beyond.dev).toBe(192);
  });

  it('stops paging when memory is short, and at capacity, after one page', () => {
    const short = walkQueue(many(500), {
      params: { ...params, availableMemoryMb: 100, minFreeMemoryMb: 512 },
    });
    expect(short.window.plan.claim).toEqual([]);
    expect(short.window.plan.memoryBlocked).toBe(true);
    expect(short.pages.filter((p) => p.kind === 'dev')).toHaveLength(1);
    const full = walkQueue(many(500), { slots: 2 });
    expect(full.window.plan.claim).toEqual([]);
    expect(full.pages.filter((p) => p.kind === 'dev')).toHaveLength(1);
  });

  it('sizes pages from the free slots', () => {
    const { pages } = walkQueue(many(500), { params: { ...params, maxAgents: 20 } });
    expect(pages[0]?.limit).toBe(80);
  });

  it('finds a PM task far back in the queue, and reads only a page of them while one runs', () => {
    const queue = [...many(300), row(301, { kind: 'pm', issueRef: null })];
    const { window } = walkQueue(queue, { slots: 2 });
    expect(window.plan.claim).toEqual([301]);
    const busy = walkQueue(
      many(100, (id) => row(id, { kind: 'pm', issueRef: null })),
      {
        pmRunning: true,
      },
    );
    expect(busy.pages.filter((p) => p.kind === 'pm')).toHaveLength(1);
    expect(busy.window.beyond.pm).toBe(MIN_PAGE);
  });

  it('skips tasks whose worktree is on another live worker', () => {
    const queue = many(40, (id) =>
      id <= 35 ? row(id, { sessionWorker: 'w2', workerLastSeen: 900 }) : row(id),
    );
    const { window } = walkQueue(queue, { params: { ...params, worker: 'w1' } });
    expect(window.plan.claim).toEqual([36, 37]);
    expect(window.plan.waiting.get(1)).toBe("its session's worktree is on worker w2");
  });

  it('writes only the reasons that changed', () => {
    const queue = [row(1), row(2), row(3, { waitReason: 'at capacity (2/2 agents running)' })];
    queue.push(row(4, { waitReason: 'stale' }));
    const { window } = walkQueue(queue);
    expect(changedReasons(window)).toEqual([{ id: 4, reason: 'at capacity (2/2 agents running)' }]);
  });
});

describe('withPlaceInLine', () => {
  const task = (id: number, extra: Partial<Task> = {}): Task =>
    ({ id, kind: 'dev', state: 'pending', waitReason: null, ...extra }) as Task;

  it('says how many tasks of its kind are ahead of a pending task no claim judged', () => {
    const listed = withPlaceInLine([
      task(1, { state: 'running' }),
      task(2),
      task(3, { waitReason: 'at capacity (1/1 agents running)' }),
      task(4, { kind: 'pm' }),
      task(5),
      task(6),
      task(7, { kind: 'pm' }),
    ]);
    expect(listed.map((t) => t.waitReason)).toEqual([
      null,
      null,
      'at capacity (1/1 agents running)',
      null,
      'in line behind 2 earlier dev tasks',
      'in line behind 3 earlier dev tasks',
      'in line behind 1 earlier PM task',
    ]);
  });
});
