/** Plain-text rendering shared by several commands. */
import type { KugetsuEvent, Task } from '../../core/domain.js';
import type { SessionView } from '../../core/operations/sessions.js';
import { ago, oneLine, table } from './io.js';

export function taskLine(task: Task): string {
  return `#${task.id} ${task.state} ${task.mode} ${task.issueRef ?? '(PM agent)'}`;
}

export function tasksTable(tasks: Task[]): string {
  if (tasks.length === 0) return 'no tasks';
  return table([
    ['ID', 'STATE', 'MODE', 'TARGET', 'TRY', 'AGE', 'DETAIL'],
    ...tasks.map((t) => [
      `#${t.id}`,
      t.state,
      t.mode,
      t.issueRef ?? '(PM agent)',
      `${t.attempts}/${t.maxAttempts}`,
      ago(t.createdAt),
      oneLine(
        t.state === 'pending'
          ? (t.waitReason ?? 'waiting for the daemon')
          : (t.lastError ?? t.result ?? t.message),
      ),
    ]),
  ]);
}

export function sessionsTable(sessions: SessionView[]): string {
  if (sessions.length === 0) return 'no sessions';
  return table([
    ['REF', 'STATE', 'TASK', 'BRANCH', 'UPDATED', 'LAST MESSAGE'],
    ...sessions.map((s) => [
      s.issueRef,
      s.state,
      s.task === null ? '-' : `#${s.task.id} ${s.task.state}`,
      s.branch,
      ago(s.updatedAt),
      oneLine(s.lastMessage ?? '', 40),
    ]),
  ]);
}

export function eventLine(event: KugetsuEvent): string {
  return `${new Date(event.createdAt).toISOString()}  ${event.type.padEnd(14)}  ${event.message}`;
}
