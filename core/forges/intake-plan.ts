/**
 * What one intake poll of a watched repository should queue. Pure: the poller fetches, this
 * decides, and the store's `onceForKey` makes each decision take effect at most once.
 */
import type { ForgeComment, ForgeIssue } from './forge-api.js';
import { isKugetsuText } from './hand-off-text.js';

export interface IntakeAction {
  /** Unique per thing acted on: a second poll, or a second daemon, finds it taken. */
  key: string;
  issueNumber: number;
  message: string;
  why: 'label' | 'mention';
}

export interface IntakeInput {
  /** `server/owner/repo`: keys stay apart across repositories and servers. */
  scope: string;
  label: string;
  mention: string;
  /** null: the forge answered 304, nothing changed. */
  issues: ForgeIssue[] | null;
  comments: ForgeComment[] | null;
  /**
   * Comments created before this (epoch ms) were looked at by an earlier poll. Ones created at
   * it are looked at again: forges keep whole seconds, so a later comment can share the stamp,
   * and the store's per-comment key keeps the one already acted on from counting twice.
   */
  commentsSince: number;
  /** Issue numbers that already have a session: a label does not start them again. */
  withSession: ReadonlySet<number>;
}

export function issueKey(scope: string, number: number): string {
  return `issue:${scope}#${number}`;
}

export function commentKey(scope: string, id: number): string {
  return `comment:${scope}/${id}`;
}

/** Whether `body` mentions `mention` as a word of its own (`@kugetsu`, not `@kugetsubot`). */
export function mentions(body: string, mention: string): boolean {
  const escaped = mention.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w@])${escaped}(?![\\w-])`, 'i').test(body);
}

export function planIntake(input: IntakeInput): IntakeAction[] {
  const actions: IntakeAction[] = [];
  for (const issue of input.issues ?? []) {
    if (issue.state !== 'open' || input.withSession.has(issue.number)) continue;
    if (!issue.labels.some((l) => l.toLowerCase() === input.label.toLowerCase())) continue;
    actions.push({
      key: issueKey(input.scope, issue.number),
      issueNumber: issue.number,
      message: `Work on this issue (it carries the ${input.label} label).`,
      why: 'label',
    });
  }
  const comments = [...(input.comments ?? [])].sort((a, b) => a.createdAt - b.createdAt);
  for (const comment of comments) {
    if (comment.createdAt < input.commentsSince) continue;
    if (isKugetsuText(comment.body) || !mentions(comment.body, input.mention)) continue;
    actions.push({
      key: commentKey(input.scope, comment.id),
      issueNumber: comment.issueNumber,
      message: `${comment.author} commented on the issue (${comment.url}):\n\n${commentText(comment.body)}`,
      why: 'mention',
    });
  }
  return actions;
}

// A task's message is limited (MAX_MESSAGE_BYTES) and may hold no NUL: a comment that broke
// either rule would fail its enqueue on every poll and block the repository's intake for good.
const MAX_COMMENT_CHARS = 8_000;

function commentText(body: string): string {
  const text = body.replaceAll('\0', '').trim();
  return text.length > MAX_COMMENT_CHARS
    ? `${text.slice(0, MAX_COMMENT_CHARS)}\n[… cut by kugetsu: ${text.length - MAX_COMMENT_CHARS} more characters]`
    : text;
}

/** The comment cursor after a poll: the newest comment seen, never moving backwards. */
export function nextCommentsSince(since: number, comments: ForgeComment[] | null): number {
  return Math.max(since, ...(comments ?? []).map((c) => c.createdAt));
}
