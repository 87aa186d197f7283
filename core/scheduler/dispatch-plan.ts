/**
 * The scheduler's decision, as a pure function: given what is pending and what runs, which
 * tasks to claim now and why each other one waits. The store applies the plan inside the
 * same BEGIN IMMEDIATE transaction that read its inputs, so the plan can never be stale.
 */
import type { TaskKind } from '../domain.js';

export interface PendingTaskView {
  id: number;
  kind: TaskKind;
  issueRef: string | null;
  notBefore: number | null;
}

export interface DispatchInput {
  now: number;
  maxAgents: number;
  /** Dev-agent slots held right now (alive or not yet reaped). */
  slotsHeld: number;
  /** Issue refs whose session has a task running. */
  busyRefs: ReadonlySet<string>;
  pmRunning: boolean;
  /** Pending tasks, oldest first. */
  pending: readonly PendingTaskView[];
  /** MB of memory available now, or null when it cannot be measured. */
  availableMemoryMb: number | null;
  minFreeMemoryMb: number;
}

export interface DispatchPlan {
  claim: number[];
  /** Why each unclaimed pending task waits. */
  waiting: Map<number, string>;
  /** The earliest instant a backoff ends, so the caller can wake then; null when none. */
  nextWakeAt: number | null;
  /** A task could have started but for low memory: measure again soon. */
  memoryBlocked: boolean;
}

export function planDispatch(input: DispatchInput): DispatchPlan {
  const claim: number[] = [];
  const waiting = new Map<number, string>();
  const busy = new Set(input.busyRefs);
  let slots = input.slotsHeld;
  let pmBusy = input.pmRunning;
  let nextWakeAt: number | null = null;
  let memoryBlocked = false;
  const lowMemory =
    input.availableMemoryMb !== null && input.availableMemoryMb < input.minFreeMemoryMb;

  for (const task of input.pending) {
    if (task.notBefore !== null && task.notBefore > input.now) {
      waiting.set(task.id, `retry backoff until ${new Date(task.notBefore).toISOString()}`);
      nextWakeAt = nextWakeAt === null ? task.notBefore : Math.min(nextWakeAt, task.notBefore);
      continue;
    }
    if (task.kind === 'pm') {
      if (pmBusy) {
        waiting.set(task.id, 'the PM agent is busy');
        continue;
      }
      pmBusy = true;
      claim.push(task.id);
      continue;
    }
    const ref = task.issueRef ?? '';
    if (busy.has(ref)) {
      waiting.set(task.id, 'its session is busy with another task');
      continue;
    }
    if (slots >= input.maxAgents) {
      waiting.set(task.id, `at capacity (${slots}/${input.maxAgents} agents running)`);
      continue;
    }
    if (lowMemory) {
      memoryBlocked = true;
      waiting.set(
        task.id,
        `low memory: ${input.availableMemoryMb} MB available, KUGETSU_MIN_FREE_MEMORY_MB=${input.minFreeMemoryMb}`,
      );
      continue;
    }
    slots += 1;
    busy.add(ref);
    claim.push(task.id);
  }
  return { claim, waiting, nextWakeAt, memoryBlocked };
}
