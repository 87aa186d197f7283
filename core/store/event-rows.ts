/** Events as SQLite and PostgreSQL return them, and their mapping to the domain type. */
import type { EventData, EventType, KugetsuEvent } from '../domain.js';

export interface EventRow {
  id: number;
  type: string;
  task_id: number;
  issue_ref: string | null;
  message: string;
  data: string | null;
  created_at: number;
  read_at: number | null;
}

export function toEvent(row: EventRow): KugetsuEvent {
  return {
    id: row.id,
    type: row.type as EventType,
    taskId: row.task_id,
    issueRef: row.issue_ref,
    message: row.message,
    data: row.data === null ? {} : (JSON.parse(row.data) as EventData),
    createdAt: row.created_at,
    readAt: row.read_at,
  };
}
