import { describe, expect, it } from 'vitest';
import {
  planDispatch,
  type DispatchInput,
  type PendingTaskView,
} from '../core/scheduler/dispatch-plan.js';

const dev = (
  id: number,
  issueRef = `h/o/r#${id}`,
  notBefore: number | null = null,
): PendingTaskView => ({ id, kind: 'dev', issueRef, notBefore });

function input(overrides: Partial<DispatchInput>): DispatchInput {
  return {
    now: 1_000,
    maxAgents: 3,
    slotsHeld: 0,
    busyRefs: new Set(),
    pmRunning: false,
    pending: [],
    availableMemoryMb: 4_000,
    minFreeMemoryMb: 512,
    ...overrides,
  };
}

describe('planDispatch', () => {
  it('claims oldest first up to the cap and says why the rest wait', () => {
    const plan = planDispatch(input({ slotsHeld: 1, pending: [dev(1), dev(2), dev(3), dev(4)] }));
    expect(plan.claim).toEqual([1, 2]);
    expect(plan.waiting.get(3)).toBe('at capacity (3/3 agents running)');
    expect(plan.waiting.get(4)).toBe('at capacity (3/3 agents running)');
  });

  it('claims nothing when the slots are already full, whatever is pending', () => {
    const pending = Array.from({ length: 50 }, (_, i) => dev(i + 1));
    expect(planDispatch(input({ slotsHeld: 3, pending })).claim).toEqual([]);
    expect(planDispatch(input({ slotsHeld: 5, pending })).claim).toEqual([]);
  });

  it('never runs two tasks of one session at once', () => {
    const plan = planDispatch(
      input({
        busyRefs: new Set(['h/o/r#9']),
        pending: [dev(1, 'h/o/r#9'), dev(2, 'h/o/r#8'), dev(3, 'h/o/r#8')],
      }),
    );
    expect(plan.claim).toEqual([2]);
    expect(plan.waiting.get(1)).toBe('its session is busy with another task');
    expect(plan.waiting.get(3)).toBe('its session is busy with another task');
  });

  it('holds tasks in backoff and reports the earliest wake-up', () => {
    const plan = planDispatch(
      input({ pending: [dev(1, 'a', 5_000), dev(2, 'b', 3_000), dev(3, 'c', 500)] }),
    );
    expect(plan.claim).toEqual([3]);
    expect(plan.nextWakeAt).toBe(3_000);
    expect(plan.waiting.get(2)).toBe(`retry backoff until ${new Date(3_000).toISOString()}`);
  });

  it('starts no agent while memory is below the minimum', () => {
    const plan = planDispatch(input({ availableMemoryMb: 300, pending: [dev(1)] }));
    expect(plan.claim).toEqual([]);
    expect(plan.waiting.get(1)).toBe(
      'low memory: 300 MB available, KUGETSU_MIN_FREE_MEMORY_MB=512',
    );
    expect(plan.memoryBlocked).toBe(true);
    expect(planDispatch(input({ pending: [dev(1)] })).memoryBlocked).toBe(false);
    // At capacity, memory is not what holds the task back.
    expect(
      planDispatch(input({ availableMemoryMb: 300, slotsHeld: 3, pending: [dev(1)] }))
        .memoryBlocked,
    ).toBe(false);
  });

  it('runs the PM agent outside the cap, one at a time', () => {
    const pm = (id: number): PendingTaskView => ({
      id,
      kind: 'pm',
      issueRef: null,
      notBefore: null,
    });
    const plan = planDispatch(input({ slotsHeld: 3, pending: [pm(1), pm(2), dev(3)] }));
    expect(plan.claim).toEqual([1]);
    expect(plan.waiting.get(2)).toBe('the PM agent is busy');
    expect(planDispatch(input({ pmRunning: true, pending: [pm(4)] })).claim).toEqual([]);
  });
});
