/**
 * How a task event reaches a chat without flooding it — decided here, purely; the sink acts.
 *
 * - At most one message per task per state change: `task_dequeued` edits the task's "queued"
 *   message in place, `task_retrying` its "started" one (progress edits it in between).
 * - A burst becomes a digest: once more than {@link DIGEST_THRESHOLD} tasks have changed in a
 *   chat within {@link DIGEST_WINDOW_MS}, every further task event updates one digest message
 *   instead of sending its own ("12 tasks changed in the last minute: …"), for as long as the
 *   burst goes on: until a minute passes without a change, or {@link DIGEST_MAX_MS} after it
 *   opened. A chat still that busy then gets a fresh digest at the bottom, never a message per
 *   task, so how long a burst takes (a slow machine, a restart in the middle) does not change
 *   what the chat shows.
 * - What asks the user something is never batched: `task_needs_input` (and approvals, which
 *   the sink pushes before any of this) always get a message of their own, at once.
 */
import type { EventType } from '../core/domain.js';
import { TELEGRAM_TEXT_LIMIT, escapeHtml } from './views/format.js';

/** More tasks than this changing within the window turn a chat's pushes into a digest. */
export const DIGEST_THRESHOLD = 10;
export const DIGEST_WINDOW_MS = 60_000;
/** The longest one digest message is kept up to date; a longer burst continues in a fresh one. */
export const DIGEST_MAX_MS = 10 * 60_000;

/** Events that ask the user something: a message of their own, always, at once. */
const NEVER_BATCHED = new Set<EventType>(['task_needs_input']);

/** Which event's message a later one of the same task edits instead of sending its own. */
const EDITS: Partial<Record<EventType, EventType>> = {
  task_dequeued: 'task_queued',
  task_retrying: 'task_started',
};

export interface BatchInput {
  type: EventType;
  taskId: number;
  now: number;
  /** Tasks with a push in this chat within the last window (their own or in a digest). */
  recentTasks: ReadonlySet<number>;
  /** The chat's current digest: when it began and when it last took an event; null: none. */
  digest: { startedAt: number; lastAt: number } | null;
  /** The task's latest message of its own in this chat, and the event it shows. */
  status: { messageId: number; type: EventType } | null;
}

export type BatchDecision =
  | { kind: 'send' }
  | { kind: 'edit'; messageId: number }
  /** Into the digest; `fresh`: a new digest message (the old one, if any, is over). */
  | { kind: 'digest'; fresh: boolean };

/** Decides how one task event reaches one chat. Pure. */
export function planPush(input: BatchInput): BatchDecision {
  if (NEVER_BATCHED.has(input.type)) return { kind: 'send' };
  const { digest, now } = input;
  const open =
    digest !== null &&
    now - digest.lastAt < DIGEST_WINDOW_MS &&
    now - digest.startedAt < DIGEST_MAX_MS;
  if (open) return { kind: 'digest', fresh: false };
  const changed = input.recentTasks.size + (input.recentTasks.has(input.taskId) ? 0 : 1);
  if (changed > DIGEST_THRESHOLD) return { kind: 'digest', fresh: true };
  const edits = EDITS[input.type];
  if (edits !== undefined && input.status?.type === edits) {
    return { kind: 'edit', messageId: input.status.messageId };
  }
  return { kind: 'send' };
}

export interface DigestEntry {
  taskId: number;
  issueRef: string | null;
  /** The task's latest event in the digest. */
  type: EventType;
}

/** A task's latest state wins; the order is that of first appearance. Pure. */
export function addToDigest(entries: readonly DigestEntry[], entry: DigestEntry): DigestEntry[] {
  const at = entries.findIndex((e) => e.taskId === entry.taskId);
  if (at < 0) return [...entries, entry];
  return entries.map((e, i) => (i === at ? entry : e));
}

const DIGEST_LABELS: Record<string, { icon: string; label: string; order: number }> = {
  task_completed: { icon: '✅', label: 'completed', order: 0 },
  task_error: { icon: '❌', label: 'failed', order: 1 },
  task_started: { icon: '▶️', label: 'started', order: 2 },
  task_cancelled: { icon: '⏹', label: 'stopped', order: 3 },
  task_retrying: { icon: '🔁', label: 'retrying', order: 4 },
  task_dequeued: { icon: '⏳', label: 'dequeued', order: 5 },
  task_queued: { icon: '📥', label: 'queued', order: 6 },
  task_needs_input: { icon: '❓', label: 'need your input', order: 7 },
};
const OTHER = { icon: '•', label: 'changed', order: 8 };

/** Events whose digest pings when it is first sent (later edits never ping). */
const PINGING = new Set<EventType>([
  'task_started',
  'task_completed',
  'task_error',
  'task_cancelled',
]);

export function digestPings(entries: readonly DigestEntry[]): boolean {
  return entries.some((e) => PINGING.has(e.type));
}

/**
 * "12 tasks changed in the last minute: 8 completed, 3 failed, 1 started", then the list;
 * `spanMs` is how long the burst has lasted ("in the last 4 minutes"). Pure.
 */
export function digestHtml(entries: readonly DigestEntry[], spanMs = 0): string {
  const counts = new Map<string, { label: string; order: number; n: number }>();
  for (const entry of entries) {
    const { label, order } = DIGEST_LABELS[entry.type] ?? OTHER;
    const known = counts.get(label) ?? { label, order, n: 0 };
    known.n += 1;
    counts.set(label, known);
  }
  const summary = [...counts.values()]
    .sort((a, b) => a.order - b.order)
    .map((c) => `${c.n} ${c.label}`)
    .join(', ');
  const minutes = Math.round(spanMs / 60_000);
  const span = minutes <= 1 ? 'minute' : `${minutes} minutes`;
  const header = `<b>${entries.length} task${entries.length === 1 ? '' : 's'} changed in the last ${span}:</b> ${summary}`;
  const lines = [header];
  let length = header.length;
  for (const [i, entry] of entries.entries()) {
    const { icon, label } = DIGEST_LABELS[entry.type] ?? OTHER;
    const line = `${icon} #${entry.taskId} <code>${escapeHtml(entry.issueRef ?? 'PM agent')}</code> ${label}`;
    const rest = entries.length - i;
    // Room for the "… and N more" line, whatever N is.
    if (length + line.length + 1 > TELEGRAM_TEXT_LIMIT - 40) {
      lines.push(`<i>… and ${rest} more</i>`);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}
