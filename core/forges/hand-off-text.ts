/**
 * What kugetsu writes on a forge: the pull request's title and body, and the comment on the
 * issue. Each carries a hidden marker, so after a crash kugetsu finds what it already wrote
 * instead of writing it twice. Pure.
 */

/** Marks the comment one task wrote; HTML comments do not render on any of the three forges. */
export function commentMarker(taskId: number): string {
  return `<!-- kugetsu:task=${taskId} -->`;
}

/** Marks every body kugetsu wrote, whatever the task: intake skips comments carrying it. */
export const KUGETSU_MARK = '<!-- kugetsu -->';

export function isKugetsuText(body: string): boolean {
  return body.includes(KUGETSU_MARK);
}

export interface HandOffFacts {
  taskId: number;
  /** Normalised `host/owner/repo#N`. */
  issueRef: string;
  issueNumber: number;
  issueTitle: string | null;
  branch: string;
  /** `git diff --shortstat` against the base. */
  diffstat: string;
  /** The agent's final answer, if it gave one. */
  answer: string | null;
}

const MAX_TITLE = 120;
const MAX_ANSWER = 3000;

export function pullRequestTitle(facts: HandOffFacts): string {
  const title = facts.issueTitle?.trim() || `Work on ${facts.issueRef}`;
  const full = `${title} (#${facts.issueNumber})`;
  return full.length > MAX_TITLE ? `${full.slice(0, MAX_TITLE - 1)}…` : full;
}

export function pullRequestBody(facts: HandOffFacts): string {
  return [
    `Closes #${facts.issueNumber}.`,
    '',
    summaryBlock(facts),
    '',
    `<sub>Opened by kugetsu from branch \`${facts.branch}\`; updated by each task on the issue.</sub>`,
    KUGETSU_MARK,
  ].join('\n');
}

export function issueCommentBody(facts: HandOffFacts, pullRequestUrl: string): string {
  return [
    `kugetsu task #${facts.taskId} finished: ${pullRequestUrl}`,
    '',
    summaryBlock(facts),
    KUGETSU_MARK,
    commentMarker(facts.taskId),
  ].join('\n');
}

function summaryBlock(facts: HandOffFacts): string {
  const lines = [`**Changes:** ${facts.diffstat} on \`${facts.branch}\` (task #${facts.taskId})`];
  const answer = facts.answer?.trim();
  if (answer) {
    const cut = (answer.length > MAX_ANSWER ? `${answer.slice(0, MAX_ANSWER)}…` : answer)
      // An agent's text must not carry a marker that would pass for kugetsu's own.
      .replaceAll('<!--', '&lt;!--');
    // Quoted, so the agent's markdown cannot pose as kugetsu's own text.
    lines.push('', '**Agent summary:**', '', ...cut.split('\n').map((l) => `> ${l}`));
  }
  return lines.join('\n');
}
