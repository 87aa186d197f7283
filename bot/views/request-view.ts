/** What a plain-text request is answered with. Pure. */
import type { Task } from '../../core/domain.js';
import { escapeHtml, truncate } from './format.js';

/** How much of a PM-bound request the question quotes back. */
const QUOTE_LIMIT = 600;

export function queuedHtml(
  task: Pick<Task, 'id' | 'issueRef'>,
  note: string | null = null,
): string {
  const target =
    task.issueRef === null ? 'the PM agent' : `<code>${escapeHtml(task.issueRef)}</code>`;
  return `📥 Task #${task.id} queued for ${target}${note === null ? '' : `\n<i>${escapeHtml(note)}</i>`}`;
}

export function pmQuestionHtml(text: string): string {
  return `Send to the PM agent?\n<blockquote>${escapeHtml(truncate(text, QUOTE_LIMIT))}</blockquote>\n<i>It names no issue; the PM agent decides which issues to start or continue.</i>`;
}

export function pmKeyboard(requestId: string): { text: string; data: string }[][] {
  return [
    [
      { text: 'Yes', data: `pm-send:${requestId}` },
      { text: 'Cancel', data: `pm-drop:${requestId}` },
    ],
  ];
}

export const ALREADY_HANDLED = 'This request was already handled.';
