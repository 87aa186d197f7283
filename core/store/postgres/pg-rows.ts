/**
 * PostgreSQL's rows: SQLite's shapes (../*-rows.ts) but for flags, which are BOOLEAN here where
 * SQLite keeps 0 or 1. JSON comes back as its text (pg-db.ts), so the shared mappers parse it.
 */
import type { Server, Task } from '../../domain.js';
import { toServer, type ServerRow } from '../server-rows.js';
import { toTask, type SlotRow, type TaskRow } from '../task-rows.js';
import type { SlotRecord } from '../records.js';

export type PgTaskRow = Omit<TaskRow, 'cancel_requested'> & { cancel_requested: boolean };
export type PgServerRow = Omit<ServerRow, 'is_default'> & { is_default: boolean };
export type PgSlotRow = Omit<SlotRow, 'counts'> & { counts: boolean };

export function pgTask(row: PgTaskRow): Task {
  return toTask({ ...row, cancel_requested: row.cancel_requested ? 1 : 0 });
}

export function pgServer(row: PgServerRow): Server {
  return toServer({ ...row, is_default: row.is_default ? 1 : 0 });
}

export function pgSlot(row: PgSlotRow): SlotRecord {
  return {
    taskId: row.task_id,
    counts: row.counts,
    owner: { pid: row.owner_pid, start: row.owner_start },
    agent: row.agent_pid === null ? null : { pid: row.agent_pid, start: row.agent_start ?? '' },
    claimedAt: row.claimed_at,
  };
}
