/** The judgements of several machines on one database, as pure functions (core/store/fleet.ts). */
import { describe, expect, it } from 'vitest';
import type { Task } from '../core/domain.js';
import {
  bindingCap,
  currentHolder,
  heldElsewhere,
  mayTakeLease,
  openRunId,
  planClaim,
  recoveryOutcome,
  workerAlive,
} from '../core/store/fleet.js';
import { workerLine } from '../core/operations/fleet.js';
import { databasePassword } from '../core/store/open-store.js';

const params = { owner: { pid: 1, start: 's' }, availableMemoryMb: null, minFreeMemoryMb: 0 };

describe('bindingCap', () => {
  it('is the per-host cap over this worker’s slots when there is no global cap', () => {
    expect(bindingCap({ maxAgents: 2 }, { mine: 1, all: 9 })).toEqual({
      maxAgents: 2,
      slotsHeld: 1,
    });
  });

  it('is whichever cap leaves less room', () => {
    // Host room 2, global room 1: the global cap binds.
    expect(bindingCap({ maxAgents: 3, globalMaxAgents: 4 }, { mine: 1, all: 3 })).toEqual({
      maxAgents: 4,
      slotsHeld: 3,
    });
    // Host room 1, global room 3: the host cap binds.
    expect(bindingCap({ maxAgents: 2, globalMaxAgents: 4 }, { mine: 1, all: 1 })).toEqual({
      maxAgents: 2,
      slotsHeld: 1,
    });
    // A global cap already passed (lowered while agents ran) leaves no room either way.
    expect(bindingCap({ maxAgents: 5, globalMaxAgents: 2 }, { mine: 0, all: 3 })).toEqual({
      maxAgents: 2,
      slotsHeld: 3,
    });
  });
});

describe('heldElsewhere', () => {
  const now = 100_000;
  it('keeps a task for the live worker that holds its session, and only for it', () => {
    const pending = [
      { id: 1, sessionWorker: 'w1', workerLastSeen: now - 1_000 },
      { id: 2, sessionWorker: 'w2', workerLastSeen: now - 1_000 },
      { id: 3, sessionWorker: null, workerLastSeen: null },
      { id: 4, sessionWorker: 'w3', workerLastSeen: now - 31_000 },
      { id: 5, sessionWorker: 'w4', workerLastSeen: null },
    ];
    expect([...heldElsewhere(pending, 'w1', 30_000, now)]).toEqual([
      [2, "its session's worktree is on worker w2"],
    ]);
    expect([...heldElsewhere(pending, null, 30_000, now).keys()]).toEqual([1, 2]);
  });
});

describe('planClaim', () => {
  const pending = [1, 2, 3, 4].map((id) => ({
    id,
    kind: 'dev' as const,
    issueRef: `h/o/r#${id}`,
    notBefore: null,
  }));

  it('claims up to the smaller room and leaves what another worker holds to it', () => {
    const plan = planClaim(
      { ...params, worker: 'w1', maxAgents: 3, globalMaxAgents: 4, leaseMs: 30_000 },
      {
        now: 50_000,
        slots: { mine: 0, all: 2 },
        running: [],
        pending,
        placements: [{ id: 1, sessionWorker: 'w2', workerLastSeen: 49_000 }],
      },
    );
    expect(plan.claim).toEqual([2, 3]);
    expect(plan.waiting.get(1)).toBe("its session's worktree is on worker w2");
    expect(plan.waiting.get(4)).toBe('at capacity (4/4 agents running)');
  });

  it('is today’s plan when no worker or global cap is named', () => {
    const plan = planClaim(
      { ...params, maxAgents: 2 },
      { now: 0, slots: { mine: 1, all: 1 }, running: [], pending, placements: [] },
    );
    expect(plan.claim).toEqual([1]);
    expect(plan.waiting.get(2)).toBe('at capacity (2/2 agents running)');
  });
});

describe('leases', () => {
  it('may be taken when free, expired or already the holder’s', () => {
    expect(mayTakeLease(null, 'a', 0)).toBe(true);
    expect(mayTakeLease({ holder: 'a', expiresAt: 10 }, 'a', 5)).toBe(true);
    expect(mayTakeLease({ holder: 'a', expiresAt: 10 }, 'b', 9)).toBe(false);
    expect(mayTakeLease({ holder: 'a', expiresAt: 10 }, 'b', 10)).toBe(true);
  });

  it('are held until their term ends', () => {
    expect(currentHolder(null, 0)).toBeNull();
    expect(currentHolder({ holder: 'a', expiresAt: 10 }, 9)).toBe('a');
    expect(currentHolder({ holder: 'a', expiresAt: 10 }, 10)).toBeNull();
  });

  it('judge a worker alive up to its lease, dead after', () => {
    expect(workerAlive(1_000, 500, 1_500)).toBe(true);
    expect(workerAlive(1_000, 500, 1_501)).toBe(false);
  });
});

describe('recovery', () => {
  it('honours a stop asked for, and interrupts anything else', () => {
    const task = { cancelRequested: false } as Task;
    expect(recoveryOutcome(task)).toEqual({ kind: 'interrupted', agentSessionId: null });
    expect(recoveryOutcome({ ...task, cancelRequested: true }).kind).toBe('cancelled');
  });

  it('closes the latest run only if it is still open', () => {
    expect(openRunId([])).toBeNull();
    expect(
      openRunId([
        { id: 1, finishedAt: 5 },
        { id: 2, finishedAt: null },
      ]),
    ).toBe(2);
    expect(
      openRunId([
        { id: 1, finishedAt: null },
        { id: 2, finishedAt: 5 },
      ]),
    ).toBeNull();
  });
});

describe('databasePassword', () => {
  it('is the URL’s password, decoded, for the scrubber; none without one', () => {
    expect(databasePassword('postgres://kugetsu:p%40ss%2Fw0rd@db:5432/k')).toBe('p@ss/w0rd');
    expect(databasePassword('postgres://kugetsu@db/k')).toBeNull();
    expect(databasePassword(undefined)).toBeNull();
  });
});

describe('workerLine', () => {
  const now = 1_000_000;
  const w = {
    name: 'beta',
    host: 'beta.lan',
    pid: 311,
    maxAgents: 2,
    lastSeen: now - 4_400,
    taskIds: [19, 20],
    alive: true,
    self: false,
  };
  it('says whether the worker lives, what it runs of its cap, and when it was last heard', () => {
    expect(workerLine(w, now)).toBe(
      'beta: alive, beta.lan pid 311, 2/2 agents (#19 #20), heartbeat 4s ago',
    );
    expect(workerLine({ ...w, alive: false, self: true, taskIds: [] }, now)).toBe(
      'beta (this machine): dead, beta.lan pid 311, 0/2 agents (idle), heartbeat 4s ago',
    );
  });
});
