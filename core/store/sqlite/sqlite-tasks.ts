/**
 * Tasks and claims on SQLite: the transactions that queue work, hand out slots and end
 * attempts. Each is one BEGIN IMMEDIATE transaction; the claim counts and claims under the
 * write lock, so a second claimer blocks until the first commits and then counts its slots.
 */
import type { Task } from '../../domain.js';
import { OperationError } from '../../errors.js';
import { isAlive } from '../../process-info.js';
import type { ApprovalRecords } from '../approval-records.js';
import { openRunId, recoveryOutcome, staleFenceMessage, type ClaimedTask } from '../fleet.js';
import { changedReasons, claimWindow, walkSync } from '../claim-window.js';
import { settle, type AttemptEnd } from '../settle.js';
import type { ClaimRecords, TaskRecords } from '../store-interface.js';
import type { NewSession, NewTask, QueueStats } from '../records.js';
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
import type { SqliteDb } from './sqlite-db.js';
import {
  applyTaskChange,
  countTasksByState,
  deleteTaskAndEvents,
  insertAttachment,
  insertSessionIfMissing,
  insertTask,
  keySeen,
  markCancelRequested,
  markCancelledBeforeRun,
  markKeySeen,
  markRunning,
  mustSelectTask,
  requeueWithFreshAttempts,
  selectAttachmentPaths,
  selectAttachments,
  selectFinishedBefore,
  selectLatestTaskFor,
  selectRunningForPlan,
  selectTask,
  selectTasks,
} from './task-sql.js';
import { clearReasonsBeyond, selectPendingPage, setWaitReasons } from './claim-sql.js';
import {
  countSlotsOf,
  nextFence,
  selectTaskIdsOfOthers,
  selectTaskIdsOfWorker,
  setSessionWorker,
  slotHoldsFence,
} from './worker-sql.js';

/** A thunk's value as a promise; a throw becomes a rejection, as with any async store. */
export function settled<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

export function sqliteTasks(db: SqliteDb, approvals: ApprovalRecords): TaskRecords {
  const enqueueNow = (task: NewTask, session: NewSession | null, now: number): Task => {
    if (session !== null) insertSessionIfMissing(db, session, now);
    const id = insertTask(db, task, now);
    (task.attachments ?? []).forEach((a, seq) => insertAttachment(db, id, seq, a));
    db.insertEvent('task_queued', id, task.issueRef, { mode: task.mode }, now);
    return mustSelectTask(db, id);
  };
  const cancelNow = (id: number, now: number): Task => {
    const task = mustSelectTask(db, id);
    if (task.state === 'pending') {
      markCancelledBeforeRun(db, id, now);
      db.insertEvent('task_cancelled', id, task.issueRef, { beforeRun: true }, now);
    } else if (task.state === 'running') {
      markCancelRequested(db, id);
    } else {
      throw new OperationError(`task ${id} is already ${task.state}: nothing to cancel`);
    }
    return mustSelectTask(db, id);
  };

  return {
    enqueue: (task, session, now = Date.now()) =>
      settled(() => db.immediate(() => enqueueNow(task, session, now))),
    enqueueOnce: (key, task, session, now = Date.now()) =>
      settled(() =>
        db.immediate(() => {
          if (keySeen(db, key)) return null;
          const queued = enqueueNow(task, session, now);
          markKeySeen(db, key, queued.id, now);
          return queued;
        }),
      ),
    get: (id) => settled(() => selectTask(db, id)),
    list: (filter = {}) => settled(() => selectTasks(db, filter)),
    latestFor: (issueRef) => settled(() => selectLatestTaskFor(db, issueRef)),
    attachments: (taskId) => settled(() => selectAttachments(db, taskId)),
    attachmentPaths: () => settled(() => selectAttachmentPaths(db)),
    stats: () =>
      settled(() => {
        const rows = countTasksByState(db);
        const count = (state: string): number => rows.find((r) => r.state === state)?.n ?? 0;
        const stats: QueueStats = {
          pending: count('pending'),
          running: count('running'),
          completed: count('completed'),
          needsInput: count('needs_input'),
          error: count('error'),
          cancelled: count('cancelled'),
          slotsHeld: countCountedSlots(db),
        };
        return stats;
      }),
    cancel: (id, now = Date.now()) => settled(() => db.immediate(() => cancelNow(id, now))),
    retry: (id, now = Date.now()) =>
      settled(() =>
        db.immediate(() => {
          const task = mustSelectTask(db, id);
          if (task.state !== 'error' && task.state !== 'cancelled' && task.state !== 'needs_input')
            throw new OperationError(
              `task ${id} is ${task.state}: only failed, cancelled or waiting tasks can be retried`,
            );
          requeueWithFreshAttempts(db, id);
          db.insertEvent(
            'task_queued',
            id,
            task.issueRef,
            { mode: task.mode, requeued: true },
            now,
          );
          return mustSelectTask(db, id);
        }),
      ),
    deleteFinished: (before) =>
      settled(() =>
        db.immediate(() => {
          const ids = selectFinishedBefore(db, before);
          for (const id of ids) deleteTaskAndEvents(db, id);
          return ids.length;
        }),
      ),
    cancelAllPending: (now = Date.now()) =>
      settled(() =>
        db.immediate(() => {
          const pending = selectTasks(db, { states: ['pending'] });
          for (const task of pending) cancelNow(task.id, now);
          return pending.length;
        }),
      ),
    finishAttempt: (taskId, runId, exitCode, outcome, usage = null, now = Date.now(), fence) =>
      settled(() =>
        db.immediate(() =>
          finishAttemptIn(db, approvals, { taskId, runId, exitCode, outcome, usage, now, fence }),
        ),
      ),
  };
}

/** Ends an attempt inside the caller's transaction (TaskRecords.finishAttempt). */
export function finishAttemptIn(db: SqliteDb, approvals: ApprovalRecords, end: AttemptEnd): Task {
  const { taskId, runId, now } = end;
  if (end.fence !== undefined && !slotHoldsFence(db, taskId, end.fence))
    throw new OperationError(staleFenceMessage(`task ${taskId}`, end.fence));
  deleteSlot(db, taskId);
  // Nothing waits for these answers any more; the pushes that asked are edited.
  approvals.closeOpenForTask(taskId, 'the attempt ended', now);
  if (runId !== null && end.usage !== null) setRunUsage(db, runId, end.usage);
  if (runId !== null) finishRun(db, runId, end.exitCode, end.outcome.kind, now);
  // Read after the usage is in: the events that end a task carry its total.
  const task = mustSelectTask(db, taskId);
  const settled = settle(task, end.outcome, now);
  if (task.issueRef !== null && settled.session !== null)
    settleSession(db, task.issueRef, settled.session, now);
  applyTaskChange(db, taskId, settled.task);
  if (settled.event !== null)
    db.insertEvent(settled.event.type, taskId, task.issueRef, settled.event.data, now);
  return mustSelectTask(db, taskId);
}

export function sqliteClaims(db: SqliteDb, approvals: ApprovalRecords): ClaimRecords {
  return {
    claim: (params, now = Date.now()) =>
      settled(() =>
        db.immediate(() => {
          const all = countCountedSlots(db);
          const window = walkSync(
            claimWindow(params, {
              now,
              slots: {
                all,
                mine: params.worker === undefined ? all : countSlotsOf(db, params.worker),
              },
              running: selectRunningForPlan(db),
            }),
            (page) => selectPendingPage(db, page),
          );
          setWaitReasons(db, changedReasons(window));
          for (const [kind, afterId] of Object.entries(window.beyond))
            if (afterId !== null) clearReasonsBeyond(db, kind, afterId);
          const { plan } = window;
          const worker = params.worker ?? null;
          const claimed: ClaimedTask[] = [];
          for (const id of plan.claim) {
            const task = mustSelectTask(db, id);
            const fence = nextFence(db);
            insertSlot(db, id, task.kind, params.owner, { worker, fence }, now);
            markRunning(db, id, now);
            if (task.issueRef !== null) markSessionUsed(db, task.issueRef, id, now);
            // The worktree is made, or found, on the claimer's machine: follow-ups go there.
            if (task.issueRef !== null && worker !== null)
              setSessionWorker(db, task.issueRef, worker);
            db.insertEvent(
              'task_dequeued',
              id,
              task.issueRef,
              { attempt: task.attempts + 1, maxAttempts: task.maxAttempts },
              now,
            );
            claimed.push({ ...mustSelectTask(db, id), fence });
          }
          return { claimed, nextWakeAt: plan.nextWakeAt, memoryBlocked: plan.memoryBlocked };
        }),
      ),
    isCurrent: (taskId, fence) => settled(() => slotHoldsFence(db, taskId, fence)),
    recoverWorker: (name, now = Date.now()) =>
      settled(() =>
        db.immediate(() =>
          selectTaskIdsOfWorker(db, name).map((taskId) =>
            finishAttemptIn(db, approvals, {
              taskId,
              runId: openRunId(selectRuns(db, taskId)),
              exitCode: null,
              outcome: recoveryOutcome(mustSelectTask(db, taskId)),
              usage: null,
              now,
            }),
          ),
        ),
      ),
    countedSlots: () => settled(() => countCountedSlots(db)),
    recordAgentProcess: (taskId, agent) => settled(() => setSlotAgent(db, taskId, agent)),
    list: () => settled(() => selectSlots(db)),
    orphans: (worker) =>
      settled(() => {
        const slots = new Map(selectSlots(db).map((s) => [s.taskId, s]));
        const elsewhere = new Set(worker === undefined ? [] : selectTaskIdsOfOthers(db, worker));
        return selectTasks(db, { states: ['running'] }).flatMap((task) => {
          const slot = slots.get(task.id) ?? null;
          if (elsewhere.has(task.id)) return [];
          return slot !== null && isAlive(slot.owner) ? [] : [{ task, slot }];
        });
      }),
  };
}
