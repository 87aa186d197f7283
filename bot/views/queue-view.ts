/** `/status`, `/queue`, `/list`, `/notify` and the session buttons' questions and answers. Pure. */
import type { KugetsuEvent, Task } from '../../core/domain.js';
import type { SessionView } from '../../core/operations/session-list.js';
import type { QueueStats } from '../../core/store/records.js';
import { encodeButton } from '../callback-data.js';
import type { Button } from './event-message.js';
import { eventLine } from './event-line.js';
import { escapeHtml } from './format.js';

export interface StatusFacts {
  status: string;
  daemonPid: number | null;
  stats: QueueStats;
  maxAgents: number;
  /** The bot's health in one line. */
  telegram: string;
}

export function statusHtml(f: StatusFacts): string {
  return [
    `status: <b>${f.status}</b>`,
    `daemon: ${f.daemonPid === null ? 'not running' : `running (pid ${f.daemonPid})`}`,
    `agents: ${f.stats.slotsHeld}/${f.maxAgents} · pending ${f.stats.pending} · done ${f.stats.completed} · failed ${f.stats.error}`,
    `telegram: ${escapeHtml(f.telegram)}`,
  ].join('\n');
}

/** Pending and running tasks; `waiting`: those with a request open for the user. */
export function queueHtml(tasks: readonly Task[], waiting: ReadonlySet<number>): string {
  const lines = tasks.map(
    (t) =>
      `#${t.id} <b>${t.state}</b> ${t.mode} <code>${escapeHtml(t.issueRef ?? 'PM agent')}</code>${t.state === 'pending' && t.waitReason !== null ? `\n   <i>${escapeHtml(t.waitReason)}</i>` : ''}${waiting.has(t.id) ? '\n   <i>waiting for your answer: /pending</i>' : ''}`,
  );
  return lines.length === 0 ? 'The queue is empty.' : lines.join('\n');
}

export function listHtml(sessions: readonly SessionView[], all: boolean): string {
  const lines = sessions.map(
    (s) =>
      `<code>${escapeHtml(s.issueRef)}</code> <b>${s.state}</b>${s.task === null ? '' : ` · #${s.task.id} ${s.task.state}`}${
        s.pullRequest === null
          ? ''
          : ` · <a href="${escapeHtml(s.pullRequest.url)}">PR #${s.pullRequest.number}</a> ${s.pullRequest.state}`
      }`,
  );
  if (lines.length > 0) return lines.join('\n');
  return all ? 'No sessions.' : 'No sessions in use or interrupted (/list all).';
}

export function notifyHtml(events: readonly KugetsuEvent[]): string {
  return events.length === 0
    ? 'No unread notifications.'
    : events.map((e) => escapeHtml(eventLine(e))).join('\n');
}

/** "Yes, do it / Cancel" under a question that destroys or prunes. */
export function confirmButtons(action: 'destroy!' | 'prune!', taskId: number): Button[][] {
  return [
    [
      { text: 'Yes, do it', data: encodeButton(action, taskId) },
      { text: 'Cancel', data: encodeButton('cancel', taskId) },
    ],
  ];
}

export function destroyQuestionHtml(issueRef: string): string {
  return `Destroy <code>${escapeHtml(issueRef)}</code>, its worktree and branch?`;
}

export const PRUNE_QUESTION = 'Prune every idle session whose work is pushed and clean?';

export function destroyedHtml(issueRef: string): string {
  return `🗑 Destroyed <code>${escapeHtml(issueRef)}</code>.`;
}

export function prunedHtml(report: {
  pruned: readonly string[];
  kept: readonly { issueRef: string; reason: string }[];
}): string {
  const lines = [
    ...report.pruned.map((r) => `🗑 ${escapeHtml(r)}`),
    ...report.kept.map((k) => `kept ${escapeHtml(k.issueRef)}: ${escapeHtml(k.reason)}`),
  ];
  return lines.length === 0 ? 'No sessions to prune.' : lines.join('\n');
}

export function stoppingText(taskId: number): string {
  return `⏹ Stopping task #${taskId}.`;
}

/** The Continue button's question, which a reply answers. */
export function continuePromptHtml(issueRef: string | null): string {
  return issueRef === null
    ? 'What should the PM agent do next? Reply to this message.'
    : `What should the agent do next on <code>${escapeHtml(issueRef)}</code>? Reply to this message.`;
}
