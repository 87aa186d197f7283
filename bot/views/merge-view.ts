/** What the merge flow says, as pure functions: the button, the question, the answer. */
import type { SessionPullRequest } from '../../core/domain.js';
import type { MergeOutcome } from '../../core/operations/merge.js';
import { encodeButton } from '../callback-data.js';
import { escapeHtml } from './format.js';

/** The button on a completion: `merge:<task id>`. */
export function mergeButton(taskId: number): { text: string; data: string } {
  return { text: 'Merge', data: `merge:${taskId}` };
}

export function mergeQuestion(issueRef: string, pr: SessionPullRequest): string {
  return `Merge pull request <a href="${escapeHtml(pr.url)}">#${pr.number}</a> of <code>${escapeHtml(issueRef)}</code>?`;
}

export function mergeKeyboard(taskId: number): { text: string; data: string }[][] {
  return [
    [
      { text: 'Yes, merge', data: `merge!:${taskId}` },
      // The generic Cancel removes the question's buttons.
      { text: 'Cancel', data: encodeButton('cancel', taskId) },
    ],
  ];
}

export function mergedText(outcome: MergeOutcome): string {
  const pr = outcome.pullRequest;
  const what = `pull request <a href="${escapeHtml(pr.url)}">#${pr.number}</a> of <code>${escapeHtml(outcome.issueRef)}</code>`;
  if (outcome.already) return `🔀 ${what} was already merged.`;
  if (pr.state === 'merged') return `🔀 Merged ${what}.`;
  return `🔀 Merge of ${what} requested; the forge shows it ${pr.state}.`;
}
