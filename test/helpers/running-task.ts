/** A PM task claimed by this process: the state in which its agent may ask for approvals. */
import type { StoreApi } from '../../core/store/store-interface.js';

export async function runningPmTask(store: StoreApi, agent: 'claude' = 'claude'): Promise<number> {
  const task = await store.tasks.enqueue(
    { kind: 'pm', mode: 'start', issueRef: null, message: 'go', agent, maxAttempts: 1 },
    null,
  );
  await store.claims.claim({
    owner: { pid: process.pid, start: 'test' },
    maxAgents: 1,
    availableMemoryMb: null,
    minFreeMemoryMb: 0,
  });
  return task.id;
}
