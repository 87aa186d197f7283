/**
 * The JSON documents kugetsu answers with, shared by the CLI's `--json` and the HTTP API so the
 * two cannot drift apart. Pure: the caller reads the store and hands the rows in.
 */
import type { TelegramStatus } from '../bot/health/telegram-status.js';
import type { Approval } from '../core/approvals/approval.js';
import type { Task } from '../core/domain.js';
import type { Delegated } from '../core/operations/tasks.js';
import type { Scrubber } from '../core/secrets.js';
import type { RunRecord } from '../core/store/task-rows.js';
import type { QueueStats } from '../core/store/records.js';
import { tailLines } from '../core/transcripts.js';

/** Each task with the open approval it waits for, if any: such a task still holds its slot. */
export function waitingApprovals(openApprovals: readonly Approval[]): Map<number, number> {
  const waiting = new Map<number, number>();
  for (const a of openApprovals) if (!waiting.has(a.taskId)) waiting.set(a.taskId, a.id);
  return waiting;
}

/** `queue list --json`. */
export function queueListDocument(tasks: readonly Task[], waiting: ReadonlyMap<number, number>) {
  return { tasks: tasks.map((t) => ({ ...t, waitingForApproval: waiting.get(t.id) ?? null })) };
}

/** `queue stats --json`. */
export function queueStatsDocument(
  stats: QueueStats,
  maxConcurrentAgents: number,
  daemonPid: number | null,
) {
  return { ...stats, maxConcurrentAgents, daemon: daemonPid };
}

/** `delegate --json`. */
export function delegatedDocument(result: Delegated) {
  return { taskId: result.task.id, route: result.route, task: result.task, note: result.note };
}

/** `logs TASK --json`: the task, and each attempt with its whole transcript, scrubbed. */
export function taskLogsDocument(task: Task, runs: readonly RunRecord[], scrubber: Scrubber) {
  return {
    task,
    runs: runs.map((r) => ({
      ...r,
      lines: tailLines(r.transcript, Number.MAX_SAFE_INTEGER, scrubber),
    })),
  };
}

/** `status --json`: the bot's health only when a bot is configured. */
export function statusDocument({ status, telegram }: TelegramStatus) {
  return telegram === null ? { status } : { status, telegram };
}
