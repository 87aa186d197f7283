/** The questions `/delegate` without text asks, one message each. Pure. */
import { escapeHtml } from './format.js';

export const ASK_WHAT =
  'What should the agent do? Name an issue (e.g. me/app#14) or describe the work.';
export const ASK_REPO = 'Which repository?';
export const TAP_A_REPO = 'Tap one of the repositories above.';
export const NEEDS_ISSUE_NUMBER =
  'Start with the issue number, then what to do: send /delegate to try again.';

/** The repository buttons' callback data. */
export const REPO_PICK = /^repo:\d+$/;

export function repoButtons(repos: readonly string[]): { text: string; data: string }[][] {
  return repos.map((repo, i) => [{ text: repo, data: `repo:${i}` }]);
}

export function askIssueHtml(repo: string): string {
  return `What should the agent do in <code>${escapeHtml(repo)}</code>? Start with the issue number, e.g. <i>14 fix the login test</i>.`;
}

/** "14 fix the login test" in `repo`, as a delegation's text; null without an issue number. */
export function issueRequest(repo: string, answer: string): string | null {
  const match = /^#?([1-9][0-9]*)\s+([\s\S]+)$/.exec(answer.trim());
  return match === null ? null : `${repo}#${match[1] ?? ''} ${match[2] ?? ''}`;
}
