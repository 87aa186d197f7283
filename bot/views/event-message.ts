/** What a kugetsu event looks like on a phone: short, escaped, with buttons where useful. */
import type { EventType, KugetsuEvent, SessionPullRequest, Task } from '../../core/domain.js';
import { encodeButton, type ButtonAction } from '../callback-data.js';
import { TELEGRAM_TEXT_LIMIT, escapeHtml, formatDuration, plainLine } from './format.js';
import { eventLine } from './event-line.js';
import { mergeButton } from './merge-view.js';

/** A callback button, or (with `url`) one that opens a page. */
export interface Button {
  text: string;
  data: string;
  url?: string;
}

export interface EventMessage {
  html: string;
  /** Queued and dequeued arrive silently; what a user waits for pings the phone. */
  silent: boolean;
  buttons: Button[][];
}

const ICONS: Record<EventType, string> = {
  task_queued: '📥',
  task_dequeued: '⏳',
  task_started: '▶️',
  task_completed: '✅',
  task_error: '❌',
  task_retrying: '🔁',
  task_cancelled: '⏹',
  task_needs_input: '❓',
  approval_requested: '🙋',
  approval_resolved: '☑️',
};

const LABELS: Record<EventType, string> = {
  task_queued: 'queued',
  task_dequeued: 'dequeued',
  task_started: 'started',
  task_completed: 'completed',
  task_error: 'failed',
  task_retrying: 'retrying',
  task_cancelled: 'stopped',
  task_needs_input: 'needs your input',
  approval_requested: 'asks',
  approval_resolved: 'answered',
};

const WITH_BUTTONS = new Set<EventType>([
  'task_started',
  'task_completed',
  'task_error',
  'task_needs_input',
]);
const SILENT = new Set<EventType>(['task_queued', 'task_dequeued']);
const MAX_ERROR_LINES = 8;

export function taskButtons(
  taskId: number,
  state: 'running' | 'waiting' | 'ended',
  hasSession = true,
): { text: string; data: string }[][] {
  const button = (text: string, action: ButtonAction) => ({
    text,
    data: encodeButton(action, taskId),
  });
  const first =
    state === 'running'
      ? [button('Stop', 'stop'), button('Logs', 'logs')]
      : state === 'waiting'
        ? [button('Reply', 'continue'), button('Logs', 'logs')]
        : [button('Continue', 'continue'), button('Logs', 'logs')];
  // The PM agent has no worktree to destroy or prune.
  return hasSession ? [first, [button('Destroy', 'destroy'), button('Prune', 'prune')]] : [first];
}

/**
 * Builds the message for one event. `errorTail` holds the failed run's last transcript lines;
 * `pullRequest` is the session's, which a completion links to with a button — and, while it is
 * open, offers to merge beside Continue.
 */
export function eventMessage(
  event: KugetsuEvent,
  task: Task | null,
  errorTail: readonly string[],
  pullRequest:
    | (Pick<SessionPullRequest, 'number' | 'url'> & Partial<Pick<SessionPullRequest, 'state'>>)
    | null = null,
): EventMessage {
  const target = event.issueRef ?? 'PM agent';
  const lines = [
    `${ICONS[event.type]} <b>${LABELS[event.type]}</b> · <code>${escapeHtml(target)}</code>`,
  ];
  lines.push(escapeHtml(eventLine(event)));
  if (
    task !== null &&
    task.startedAt !== null &&
    (event.type === 'task_completed' ||
      event.type === 'task_error' ||
      event.type === 'task_needs_input')
  ) {
    lines.push(
      `<i>${formatDuration(event.createdAt - task.startedAt)} · attempt ${task.attempts}/${task.maxAttempts}</i>`,
    );
  }
  if (event.type === 'task_error' && errorTail.length > 0) {
    lines.push(
      `<pre>${escapeHtml(errorTail.slice(-MAX_ERROR_LINES).map(plainLine).join('\n'))}</pre>`,
    );
  }
  let html = lines.join('\n');
  if (html.length > TELEGRAM_TEXT_LIMIT)
    html = lines.slice(0, 2).join('\n').slice(0, TELEGRAM_TEXT_LIMIT);
  const buttons: Button[][] = WITH_BUTTONS.has(event.type)
    ? taskButtons(
        event.taskId,
        event.type === 'task_started'
          ? 'running'
          : event.type === 'task_needs_input'
            ? 'waiting'
            : 'ended',
        event.issueRef !== null,
      )
    : [];
  if (
    event.type === 'task_completed' &&
    pullRequest !== null &&
    /^https?:\/\//.test(pullRequest.url)
  ) {
    buttons.unshift([
      { text: `Pull request #${pullRequest.number}`, data: '', url: pullRequest.url },
    ]);
    if (pullRequest.state === 'open') buttons[1]?.splice(1, 0, mergeButton(event.taskId));
  }
  return { html, silent: SILENT.has(event.type), buttons };
}
