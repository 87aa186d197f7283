/**
 * Tasks and claims on SQLite: the transactions that queue work, hand out slots and end
 * attempts. Each is one BEGIN IMMEDIATE transaction; the claim counts and claims under the
 * write lock, so a second claimer blocks until the first commits and then counts its slots.
 */
import type { Task } from '../../domain.js';
import { OperationError } from '../../errors.js';
import { isAlive } from '../../process-info.js';
import { planDispatch } from '../../scheduler/dispatch-plan.js';
import type { ApprovalRecords } from '../approval-records.js';
import { settle } from '../settle.js';
import type { ClaimRecords, TaskRecords } from '../store-interface.js';
import type { NewSession, NewTask, QueueStats } from '../records.js';
import {
  countCountedSlots,
  deleteSlot,
  finishRun,
  insertSlot,
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
  selectPendingForPlan,
  selectRunningForPlan,
  selectTask,
  selectTasks,
  setWaitReason,
} from './task-sql.js';

/** A thunk's value as a promise; a throw becomes a rejection, as with any async store. */
function settled<T>(fn: () => T): Promise<T> {
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
    finishAttempt: (taskId, runId, exitCode, outcome, usage = null, now = Date.now()) =>
      settled(() =>
        db.immediate(() => {
          deleteSlot(db, taskId);
          // Nothing waits for these answers any more; the pushes that asked are edited.
          approvals.closeOpenForTask(taskId, 'the attempt ended', now);
          if (runId !== null && usage !== null) setRunUsage(db, runId, usage);
          if (runId !== null) finishRun(db, runId, exitCode, outcome.kind, now);
          // Read after the usage is in: the events that end a task carry its total.
          const task = mustSelectTask(db, taskId);
          const settled = settle(task, outcome, now);
          if (task.issueRef !== null && settled.session !== null)
            settleSession(db, task.issueRef, settled.session, now);
          applyTaskChange(db, taskId, settled.task);
          if (settled.event !== null)
            db.insertEvent(settled.event.type, taskId, task.issueRef, settled.event.data, now);
          return mustSelectTask(db, taskId);
        }),
      ),
  };
}

export function sqliteClaims(db: SqliteDb): ClaimRecords {
  return {
    claim: (params, now = Date.now()) =>
      settled(() =>
        db.immediate(() => {
          const running = selectRunningForPlan(db);
          const pending = selectPendingForPlan(db);
          const plan = planDispatch({
            now,
            maxAgents: params.maxAgents,
            slotsHeld: countCountedSlots(db),
            busyRefs: new Set(running.flatMap((t) => (t.issueRef === null ? [] : [t.issueRef]))),
            pmRunning: running.some((t) => t.kind === 'pm'),
            pending,
            availableMemoryMb: params.availableMemoryMb,
            minFreeMemoryMb: params.minFreeMemoryMb,
          });
          for (const p of pending) {
            const reason = plan.waiting.get(p.id) ?? null;
            if (reason !== p.waitReason) setWaitReason(db, p.id, reason);
          }
          const claimed: Task[] = [];
          for (const id of plan.claim) {
            const task = mustSelectTask(db, id);
            insertSlot(db, id, task.kind, params.owner, now);
            markRunning(db, id, now);
            if (task.issueRef !== null) markSessionUsed(db, task.issueRef, id, now);
            db.insertEvent(
              'task_dequeued',
              id,
              task.issueRef,
              { attempt: task.attempts + 1, maxAttempts: task.maxAttempts },
              now,
            );
            claimed.push(mustSelectTask(db, id));
          }
          return { claimed, nextWakeAt: plan.nextWakeAt, memoryBlocked: plan.memoryBlocked };
        }),
      ),
    countedSlots: () => settled(() => countCountedSlots(db)),
    recordAgentProcess: (taskId, agent) => settled(() => setSlotAgent(db, taskId, agent)),
    list: () => settled(() => selectSlots(db)),
    orphans: () =>
      settled(() => {
        const slots = new Map(selectSlots(db).map((s) => [s.taskId, s]));
        return selectTasks(db, { states: ['running'] }).flatMap((task) => {
          const slot = slots.get(task.id) ?? null;
          return slot !== null && isAlive(slot.owner) ? [] : [{ task, slot }];
        });
      }),
  };
}
