/** Plain-text rendering shared by several commands. */
import type { KugetsuEvent, Task, Usage } from '../../core/domain.js';
import { budgetTokens, formatTokens } from '../../core/usage.js';
import type { SessionView } from '../../core/operations/session-list.js';
import { ago, oneLine, table } from './io.js';

export function taskLine(task: Task): string {
  return `#${task.id} ${task.state} ${task.mode} ${task.issueRef ?? '(PM agent)'}`;
}

/** `waiting`: running tasks that wait for an answer, with the approval they wait on. */
export function tasksTable(
  tasks: Task[],
  waiting: ReadonlyMap<number, number> = new Map(),
): string {
  if (tasks.length === 0) return 'no tasks';
  return table([
    ['ID', 'STATE', 'MODE', 'TARGET', 'TRY', 'AGE', 'TOKENS', 'DETAIL'],
    ...tasks.map((t) => [
      `#${t.id}`,
      t.state,
      t.mode,
      t.issueRef ?? '(PM agent)',
      `${t.attempts}/${t.maxAttempts}`,
      ago(t.createdAt),
      tokensCell(t.usage),
      oneLine(
        t.state === 'pending'
          ? (t.waitReason ?? 'waiting for the daemon')
          : waiting.has(t.id)
            ? `waiting for your answer to approval #${waiting.get(t.id)} (holds its slot; kugetsu approvals)`
            : (t.lastError ?? t.result ?? t.message),
        waiting.has(t.id) ? 100 : 60,
      ),
    ]),
  ]);
}

export function sessionsTable(sessions: SessionView[]): string {
  if (sessions.length === 0) return 'no sessions';
  return table([
    ['REF', 'STATE', 'TASK', 'BRANCH', 'PR', 'UPDATED', 'TOKENS', 'LAST MESSAGE'],
    ...sessions.map((s) => [
      s.issueRef,
      s.state,
      s.task === null ? '-' : `#${s.task.id} ${s.task.state}`,
      s.branch,
      s.pullRequest === null ? '-' : `#${s.pullRequest.number} ${s.pullRequest.state}`,
      ago(s.updatedAt),
      tokensCell(s.usage),
      oneLine(s.lastMessage ?? '', 40),
    ]),
  ]);
}

/** Budget tokens and cost in a table cell: `12k $0.04`, or `-` when nothing was reported. */
export function tokensCell(usage: Usage | null): string {
  if (usage === null) return '-';
  const cost = usage.costUsd !== null && usage.costUsd > 0 ? ` $${usage.costUsd.toFixed(2)}` : '';
  return `${formatTokens(budgetTokens(usage))}${cost}`;
}

export function eventLine(event: KugetsuEvent): string {
  return `${new Date(event.createdAt).toISOString()}  ${event.type.padEnd(14)}  ${event.message}`;
}
