/**
 * The one-line English text of an event (DESIGN.md §4), made from its structured data: what
 * `notify`, the daemon log and `--json` consumers read. Interfaces with their own look (the
 * bot) format the same data themselves. Pure.
 */
import type { EventData, EventType } from '../domain.js';
import { formatUsage } from '../usage.js';

export function eventText(
  type: EventType,
  taskId: number,
  target: string,
  data: EventData,
): string {
  const label = `#${taskId}`;
  const spent =
    data.usage === undefined || data.usage === null ? '' : ` · ${formatUsage(data.usage)}`;
  const attempt = `${data.attempt ?? 0}/${data.maxAttempts ?? 0}`;
  switch (type) {
    case 'task_queued':
      return data.requeued === true
        ? `${label} queued again by retry`
        : `${label} ${data.mode ?? 'start'} queued for ${target}`;
    case 'task_dequeued':
      return `${label} dequeued (attempt ${attempt})`;
    case 'task_started':
      return `${label} started on ${target} (attempt ${attempt})`;
    case 'task_completed':
      return `${label} completed: ${data.result ?? ''}${spent}`;
    case 'task_needs_input':
      return `${label} needs your input: ${data.question ?? ''}${spent}`;
    case 'task_retrying':
      return `${label} attempt ${attempt} failed (${data.error ?? ''}); retrying in ${Math.round((data.retryDelayMs ?? 0) / 1000)}s`;
    case 'task_error': {
      const n = data.attempt ?? 0;
      return `${label} failed after ${n} attempt${n === 1 ? '' : 's'}: ${data.error ?? ''}${spent}`;
    }
    case 'task_cancelled':
      return data.beforeRun === true ? `${label} cancelled before it ran` : `${label} stopped`;
    case 'approval_requested':
    case 'approval_resolved':
      return `${label} ${data.summary ?? ''}`;
  }
}
