/**
 * Tasks and claims on PostgreSQL: the transactions that queue work, hand out slots and end
 * attempts.
 *
 * These run at READ COMMITTED, where a transaction that reads a task's state and then writes
 * from it could act on a state another transaction has since committed (a claim running a task
 * a cancel just ended, a cancel marking a task the claim just started). SQLite's BEGIN IMMEDIATE
 * rules that out by serialising every writer; here every transaction that moves a task between
 * states (claim, cancel, retry, finishAttempt, deleteFinished, cancelAllPending, deleting a
 * session) takes the queue lock as its first statement. Each holds it for a few statements, at
 * rates of a few per second, so one lock costs nothing and keeps every such transaction as
 * simple to reason about as SQLite's. Queueing new work (enqueue, enqueueOnce) only inserts,
 * and takes no lock.
 */
import type { Task } from '../../domain.js';
import { OperationError } from '../../errors.js';
import type { ProcessIdentity } from '../../process-info.js';
import { closingAnswer, resolutionOf, resolvedEventData } from '../approval-transitions.js';
import { openRunId, recoveryOutcome, staleFenceMessage, type ClaimedTask } from '../fleet.js';
import { changedReasons, claimWindow, walk } from '../claim-window.js';
import { settle, type AttemptEnd } from '../settle.js';
import type { ClaimRecords, TaskRecords } from '../store-interface.js';
import type { NewSession, NewTask, QueueStats } from '../records.js';
import { resolveOpenOfTask } from './approval-sql.js';
import type { PgDb, PgTx } from './pg-db.js';
import { notifyWake } from './pg-wake.js';
import {
  countCountedSlots,
  deleteSlot,
  finishRun,
  insertSlot,
  selectRuns,
  selectSlots,
  setRunUsage,
  setSlotAgent,
} from './run-sql.js';
import { markSessionUsed, settleSession } from './session-sql.js';
import {
  applyTaskChange,
  countTasksByState,
  deleteEventsOfTasks,
  deleteFinishedBefore,
  insertAttachment,
  insertKeyIfUnseen,
  insertSessionIfMissing,
  insertTask,
  markCancelRequested,
  markCancelledBeforeRun,
  markRunning,
  mustSelectTask,
  requeueWithFreshAttempts,
  selectAttachmentPaths,
  selectAttachments,
  selectLatestTaskFor,
  selectTask,
  selectTasks,
  setKeyTask,
} from './task-sql.js';
import {
  clearReasonsBeyond,
  selectPendingPage,
  selectPlanInputs,
  setWaitReasons,
} from './claim-sql.js';
import {
  countSlotsOf,
  selectTaskIdsOfOthers,
  selectTaskIdsOfWorker,
  setSessionWorker,
  slotHoldsFence,
} from './worker-sql.js';

/**
 * Whether the process that owns a slot still lives. This is one machine's view (pid and kernel
 * start time, `isAlive`): right while every owner runs beside this store. Leases (a worker's
 * heartbeat with an expiry, judged by the database's clock) replace it when workers on several
 * machines share one database.
 */
export type OwnerLiveness = (owner: ProcessIdentity) => boolean;

export function postgresTasks(db: PgDb): TaskRecords {
  const enqueueIn = async (
    tx: PgTx,
    task: NewTask,
    session: NewSession | null,
    now: number,
  ): Promise<Task> => {
    if (session !== null) await insertSessionIfMissing(tx, session, now);
    const id = await insertTask(tx, task, now);
    let seq = 0;
    for (const a of task.attachments ?? []) await insertAttachment(tx, id, seq++, a);
    await notifyWake(tx);
    tx.insertEvent('task_queued', id, task.issueRef, { mode: task.mode }, now);
    return mustSelectTask(tx, id);
  };
  const cancelIn = async (tx: PgTx, id: number, now: number): Promise<Task> => {
    const task = await mustSelectTask(tx, id);
    if (task.state === 'pending') {
      await markCancelledBeforeRun(tx, id, now);
      tx.insertEvent('task_cancelled', id, task.issueRef, { beforeRun: true }, now);
    } else if (task.state === 'running') {
      await markCancelRequested(tx, id);
    } else {
      throw new OperationError(`task ${id} is already ${task.state}: nothing to cancel`);
    }
    return mustSelectTask(tx, id);
  };

  return {
    enqueue: (task, session, now = Date.now()) =>
      db.transaction((tx) => enqueueIn(tx, task, session, now)),
    // The key is inserted first: a second poller waits on its unique index until the first
    // commits, and then queues nothing. A failure anywhere after rolls the key back with the rest.
    enqueueOnce: (key, task, session, now = Date.now()) =>
      db.transaction(async (tx) => {
        if (!(await insertKeyIfUnseen(tx, key, now))) return null;
        const queued = await enqueueIn(tx, task, session, now);
        await setKeyTask(tx, key, queued.id);
        return queued;
      }),
    get: (id) => selectTask(db.sql, id),
    list: (filter = {}) => selectTasks(db.sql, filter),
    latestFor: (issueRef) => selectLatestTaskFor(db.sql, issueRef),
    attachments: (taskId) => selectAttachments(db.sql, taskId),
    attachmentPaths: () => selectAttachmentPaths(db.sql),
    stats: () =>
      db.snapshot(async (sql) => {
        const rows = await countTasksByState(sql);
        const count = (state: string): number => rows.find((r) => r.state === state)?.n ?? 0;
        const stats: QueueStats = {
          pending: count('pending'),
          running: count('running'),
          completed: count('completed'),
          needsInput: count('needs_input'),
          error: count('error'),
          cancelled: count('cancelled'),
          slotsHeld: await countCountedSlots(sql),
        };
        return stats;
      }),
    cancel: (id, now = Date.now()) => db.locked('queue', (tx) => cancelIn(tx, id, now)),
    retry: (id, now = Date.now()) =>
      db.locked('queue', async (tx) => {
        const task = await mustSelectTask(tx, id);
        if (task.state !== 'error' && task.state !== 'cancelled' && task.state !== 'needs_input')
          throw new OperationError(
            `task ${id} is ${task.state}: only failed, cancelled or waiting tasks can be retried`,
          );
        await requeueWithFreshAttempts(tx, id);
        await notifyWake(tx);
        tx.insertEvent('task_queued', id, task.issueRef, { mode: task.mode, requeued: true }, now);
        return mustSelectTask(tx, id);
      }),
    deleteFinished: (before) =>
      db.locked('queue', async (tx) => {
        const ids = await deleteFinishedBefore(tx, before);
        await deleteEventsOfTasks(tx, ids);
        return ids.length;
      }),
    cancelAllPending: (now = Date.now()) =>
      db.locked('queue', async (tx) => {
        const pending = await selectTasks(tx, { states: ['pending'] });
        for (const task of pending) await cancelIn(tx, task.id, now);
        return pending.length;
      }),
    finishAttempt: (taskId, runId, exitCode, outcome, usage = null, now = Date.now(), fence) =>
      db.locked('queue', (tx) =>
        finishAttemptIn(tx, { taskId, runId, exitCode, outcome, usage, now, fence }),
      ),
  };
}

/** Ends an attempt inside the caller's transaction, which holds the queue lock. */
async function finishAttemptIn(tx: PgTx, end: AttemptEnd): Promise<Task> {
  const { taskId, runId, now } = end;
  if (end.fence !== undefined && !(await slotHoldsFence(tx, taskId, end.fence)))
    throw new OperationError(staleFenceMessage(`task ${taskId}`, end.fence));
  await deleteSlot(tx, taskId);
  // Nothing waits for these answers any more; the pushes that asked are edited.
  const closing = resolutionOf(closingAnswer('the attempt ended'));
  for (const closed of await resolveOpenOfTask(tx, taskId, closing, now))
    tx.insertEvent('approval_resolved', taskId, closed.issueRef, resolvedEventData(closed), now);
  if (runId !== null && end.usage !== null) await setRunUsage(tx, runId, end.usage);
  if (runId !== null) await finishRun(tx, runId, end.exitCode, end.outcome.kind, now);
  // Read after the usage is in: the events that end a task carry its total.
  const task = await mustSelectTask(tx, taskId);
  const settled = settle(task, end.outcome, now);
  if (task.issueRef !== null && settled.session !== null)
    await settleSession(tx, task.issueRef, settled.session, now);
  const after = await applyTaskChange(tx, taskId, settled.task);
  if (settled.event !== null)
    tx.insertEvent(settled.event.type, taskId, task.issueRef, settled.event.data, now);
  // A slot is free, and the task may be back in the queue: claimers elsewhere may go on.
  await notifyWake(tx);
  return after;
}

export function postgresClaims(db: PgDb, ownerAlive: OwnerLiveness): ClaimRecords {
  return {
    /*
     * The check-then-spawn race is ruled out by a transaction-scoped advisory lock (the queue
     * lock), taken as the first statement: claimers on any connection of any machine queue on
     * it, and each counts the slots only after the one before it has committed its own. A
     * `SELECT … FOR UPDATE` on a counter row would serialise them as well; the advisory lock is
     * chosen because there is no row to seed, keep in step with the slots table or bloat with
     * an update per claim — the count stays derived from the slots themselves — and because,
     * being transaction-scoped, it cannot outlive its transaction: COMMIT, ROLLBACK or a
     * dropped connection releases it (and it works through transaction-mode poolers). The
     * transaction is READ COMMITTED, so the statements after the lock see every earlier claim.
     */
    claim: (params, now = Date.now()) =>
      db.locked('queue', async (tx) => {
        const { slotsHeld, running } = await selectPlanInputs(tx);
        const worker = params.worker ?? null;
        const window = await walk(
          claimWindow(params, {
            now,
            slots: {
              all: slotsHeld,
              mine: worker === null ? slotsHeld : await countSlotsOf(tx, worker),
            },
            running,
          }),
          (page) => selectPendingPage(tx, page),
        );
        await setWaitReasons(tx, changedReasons(window));
        for (const [kind, afterId] of Object.entries(window.beyond))
          if (afterId !== null) await clearReasonsBeyond(tx, kind, afterId);
        const { plan } = window;
        const claimed: ClaimedTask[] = [];
        for (const id of plan.claim) {
          const task = await markRunning(tx, id, now);
          const fence = await insertSlot(tx, id, task.kind, params.owner, worker, now);
          if (task.issueRef !== null) await markSessionUsed(tx, task.issueRef, id, now);
          // The worktree is made, or found, on the claimer's machine: follow-ups go there.
          if (task.issueRef !== null && worker !== null)
            await setSessionWorker(tx, task.issueRef, worker);
          tx.insertEvent(
            'task_dequeued',
            id,
            task.issueRef,
            { attempt: task.attempts, maxAttempts: task.maxAttempts },
            now,
          );
          claimed.push({ ...task, fence });
        }
        return { claimed, nextWakeAt: plan.nextWakeAt, memoryBlocked: plan.memoryBlocked };
      }),
    isCurrent: (taskId, fence) => slotHoldsFence(db.sql, taskId, fence),
    recoverWorker: (name, now = Date.now()) =>
      db.locked('queue', async (tx) => {
        const recovered: Task[] = [];
        for (const taskId of await selectTaskIdsOfWorker(tx, name))
          recovered.push(
            await finishAttemptIn(tx, {
              taskId,
              runId: openRunId(await selectRuns(tx, taskId)),
              exitCode: null,
              outcome: recoveryOutcome(await mustSelectTask(tx, taskId)),
              usage: null,
              now,
            }),
          );
        return recovered;
      }),
    countedSlots: () => countCountedSlots(db.sql),
    recordAgentProcess: (taskId, agent) => setSlotAgent(db.sql, taskId, agent),
    list: () => selectSlots(db.sql),
    // Slots and running tasks from one snapshot: a task claimed between two reads would
    // otherwise look like a running task without a slot, an orphan.
    orphans: (worker) =>
      db.snapshot(async (sql) => {
        const slots = new Map((await selectSlots(sql)).map((s) => [s.taskId, s]));
        const elsewhere = new Set(
          worker === undefined ? [] : await selectTaskIdsOfOthers(sql, worker),
        );
        const running = await selectTasks(sql, { states: ['running'] });
        return running.flatMap((task) => {
          const slot = slots.get(task.id) ?? null;
          if (elsewhere.has(task.id)) return [];
          return slot !== null && ownerAlive(slot.owner) ? [] : [{ task, slot }];
        });
      }),
  };
}
