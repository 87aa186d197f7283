/**
 * Restart recovery: a running task whose owner is gone had its agent orphaned. Never start a
 * second copy while the first is alive: end the old process group, wait until it is gone,
 * then mark the session `left` and the task pending again (it resumes).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { HomeContext } from '../home-context.js';
import { groupAlive, isAlive, signalGroup, type ProcessIdentity } from '../process-info.js';
import { openRunId, recoveryOutcome } from '../store/fleet.js';

const ORPHAN_POLL_MS = 50;

/** On a fleet, only this worker's own slots are judged here: the others' go by their leases. */
export async function recoverOrphans(ctx: HomeContext, log: (line: string) => void): Promise<void> {
  const { store, config } = ctx;
  for (const { task, slot } of await store.claims.orphans(ctx.fleet?.worker)) {
    await endOrphanedAgent(task.id, slot?.agent ?? null, config.killGraceMs, log);
    // A stop asked for while no daemon ran is honoured, not resumed.
    const outcome = recoveryOutcome(task);
    await store.tasks.finishAttempt(
      task.id,
      openRunId(await store.runs.list(task.id)),
      null,
      outcome,
    );
    log(
      outcome.kind === 'cancelled'
        ? `task #${task.id}: stopped as requested while no daemon ran`
        : `task #${task.id}: interrupted by a previous daemon's exit; queued to resume`,
    );
  }
}

/** Ends an orphaned agent's process group, if it lives, and waits until it is gone. */
export async function endOrphanedAgent(
  taskId: number,
  agent: ProcessIdentity | null,
  killGraceMs: number,
  log: (line: string) => void,
): Promise<void> {
  if (agent === null || !orphanGroupAlive(agent)) return;
  log(`task #${taskId}: ending orphaned agent process group ${agent.pid}`);
  signalGroup(agent.pid, 'SIGTERM');
  const deadline = Date.now() + killGraceMs;
  while (groupAlive(agent.pid)) {
    if (Date.now() > deadline) signalGroup(agent.pid, 'SIGKILL');
    await delay(ORPHAN_POLL_MS);
  }
}

/**
 * The group is ours only if its leader is the very process we recorded, or if the leader is
 * gone while the group lives on (a pid cannot be reused while it still names a group).
 */
function orphanGroupAlive(agent: ProcessIdentity): boolean {
  if (isAlive(agent)) return true;
  if (!groupAlive(agent.pid)) return false;
  return !isAlive({ pid: agent.pid, start: '' });
}
