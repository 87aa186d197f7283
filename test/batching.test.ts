/** The batching decision and the digest, as pure functions. */
import { describe, expect, it } from 'vitest';
import {
  DIGEST_MAX_MS,
  DIGEST_THRESHOLD,
  DIGEST_WINDOW_MS,
  addToDigest,
  digestHtml,
  digestPings,
  planPush,
  type BatchInput,
  type DigestEntry,
} from '../bot/batching.js';
import { TELEGRAM_TEXT_LIMIT } from '../bot/views/format.js';

const NOW = 1_000_000;
const base: BatchInput = {
  type: 'task_started',
  taskId: 1,
  now: NOW,
  recentTasks: new Set(),
  digest: null,
  status: null,
};
const tasks = (n: number, from = 100): Set<number> =>
  new Set(Array.from({ length: n }, (_, i) => from + i));

describe('planPush', () => {
  it('sends an event of its own in a quiet chat', () => {
    expect(planPush(base)).toEqual({ kind: 'send' });
  });

  it('edits the task’s message for the change that follows it, once per state', () => {
    const queued = { messageId: 7, type: 'task_queued' as const };
    expect(planPush({ ...base, type: 'task_dequeued', status: queued })).toEqual({
      kind: 'edit',
      messageId: 7,
    });
    const started = { messageId: 9, type: 'task_started' as const };
    expect(planPush({ ...base, type: 'task_retrying', status: started })).toEqual({
      kind: 'edit',
      messageId: 9,
    });
    // Each state change that matters is a message of its own.
    for (const type of ['task_started', 'task_completed', 'task_error'] as const) {
      expect(planPush({ ...base, type, status: queued })).toEqual({ kind: 'send' });
    }
    // Nothing to edit: a message after all.
    expect(planPush({ ...base, type: 'task_dequeued', status: started })).toEqual({ kind: 'send' });
    expect(planPush({ ...base, type: 'task_dequeued' })).toEqual({ kind: 'send' });
  });

  it('opens a digest for the task that makes more than ten in a minute', () => {
    const busy = { ...base, recentTasks: tasks(DIGEST_THRESHOLD) };
    expect(planPush(busy)).toEqual({ kind: 'digest', fresh: true });
    // Ten is not more than ten; a task already counted does not add one.
    expect(planPush({ ...base, recentTasks: tasks(DIGEST_THRESHOLD - 1) })).toEqual({
      kind: 'send',
    });
    expect(planPush({ ...busy, taskId: 100 })).toEqual({ kind: 'send' });
  });

  it('folds everything into an open digest while the burst goes on, then lets it go', () => {
    const since = (startedAgo: number, lastAgo: number): BatchInput['digest'] => ({
      startedAt: NOW - startedAgo,
      lastAt: NOW - lastAgo,
    });
    const open = { ...base, digest: since(DIGEST_WINDOW_MS - 1, DIGEST_WINDOW_MS - 1) };
    expect(planPush({ ...open, type: 'task_completed' })).toEqual({ kind: 'digest', fresh: false });
    expect(
      planPush({ ...open, type: 'task_dequeued', status: { messageId: 3, type: 'task_queued' } }),
    ).toEqual({ kind: 'digest', fresh: false });
    // A burst that keeps going keeps its digest past the first minute (a slow run, a restart).
    const going = { ...base, digest: since(5 * DIGEST_WINDOW_MS, 1_000) };
    expect(planPush(going)).toEqual({ kind: 'digest', fresh: false });
    // A quiet minute ends it: the chat is back to a message per change.
    const over = { ...base, digest: since(DIGEST_WINDOW_MS, DIGEST_WINDOW_MS) };
    expect(planPush(over)).toEqual({ kind: 'send' });
    expect(planPush({ ...over, recentTasks: tasks(20) })).toEqual({ kind: 'digest', fresh: true });
    // Too long for one message: a chat still busy continues in a fresh digest at the bottom,
    // whether the task was in the old one or not.
    const long = { ...base, digest: since(DIGEST_MAX_MS, 1_000), recentTasks: tasks(20) };
    expect(planPush(long)).toEqual({ kind: 'digest', fresh: true });
    expect(planPush({ ...long, taskId: 105 })).toEqual({ kind: 'digest', fresh: true });
  });

  it('never batches what asks the user something', () => {
    const open = { ...base, digest: { startedAt: NOW, lastAt: NOW }, recentTasks: tasks(50) };
    expect(planPush({ ...open, type: 'task_needs_input' })).toEqual({ kind: 'send' });
  });
});

describe('the digest', () => {
  const entry = (taskId: number, type: DigestEntry['type']): DigestEntry => ({
    taskId,
    issueRef: `h/o/r#${taskId}`,
    type,
  });

  it('keeps each task once, at its latest state', () => {
    let entries: DigestEntry[] = [];
    entries = addToDigest(entries, entry(1, 'task_queued'));
    entries = addToDigest(entries, entry(2, 'task_queued'));
    entries = addToDigest(entries, entry(1, 'task_completed'));
    expect(entries).toEqual([entry(1, 'task_completed'), entry(2, 'task_queued')]);
  });

  it('says how many changed and how, then lists them, escaped', () => {
    const entries = [
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => entry(n, 'task_completed')),
      ...[9, 10, 11].map((n) => entry(n, 'task_error')),
      { taskId: 12, issueRef: 'h/<o>/r#12', type: 'task_started' as const },
    ];
    const html = digestHtml(entries);
    const [header, ...lines] = html.split('\n');
    expect(header).toBe(
      '<b>12 tasks changed in the last minute:</b> 8 completed, 3 failed, 1 started',
    );
    expect(lines[0]).toBe('✅ #1 <code>h/o/r#1</code> completed');
    expect(lines.at(-1)).toBe('▶️ #12 <code>h/&lt;o&gt;/r#12</code> started');
    expect(digestHtml([entry(1, 'task_queued')])).toMatch(
      /^<b>1 task changed in the last minute:<\/b> 1 queued\n/,
    );
    // A burst that went on says for how long.
    expect(digestHtml(entries, 80_000)).toMatch(/^<b>12 tasks changed in the last minute:/);
    expect(digestHtml(entries, 4 * 60_000 + 10_000)).toMatch(
      /^<b>12 tasks changed in the last 4 minutes:/,
    );
  });

  it('stays within one message however many tasks it holds', () => {
    const many = Array.from({ length: 500 }, (_, i) => entry(i + 1, 'task_completed'));
    const html = digestHtml(many);
    expect(html.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    expect(html).toMatch(/<i>… and \d+ more<\/i>$/);
    expect(html.startsWith('<b>500 tasks changed')).toBe(true);
  });

  it('pings when it holds a start or an outcome, not for queueing alone', () => {
    expect(digestPings([entry(1, 'task_queued'), entry(2, 'task_dequeued')])).toBe(false);
    expect(digestPings([entry(1, 'task_queued'), entry(2, 'task_error')])).toBe(true);
  });
});
