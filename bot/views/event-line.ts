/**
 * The line under an event's heading in a chat, made from the event's structured data, never
 * from the stored text: the core's one-line English of the same data, except a failure, whose
 * attempts the message's next line shows already. Pure.
 */
import type { KugetsuEvent } from '../../core/domain.js';
import { eventText } from '../../core/events/event-text.js';
import { formatUsage } from '../../core/usage.js';

export function eventLine(
  event: Pick<KugetsuEvent, 'type' | 'taskId' | 'issueRef' | 'data'>,
): string {
  const { data } = event;
  if (event.type === 'task_error') {
    const spent =
      data.usage === undefined || data.usage === null ? '' : ` · ${formatUsage(data.usage)}`;
    return `#${event.taskId} failed: ${data.error ?? ''}${spent}`;
  }
  return eventText(event.type, event.taskId, event.issueRef ?? 'the PM agent', data);
}
