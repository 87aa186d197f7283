/** The state transitions of an attempt's end, as a pure function: DESIGN.md §4. */
import { describe, expect, it } from 'vitest';
import type { Task } from '../core/domain.js';
import { eventText } from '../core/events/event-text.js';
import { settle } from '../core/store/settle.js';

const usage = {
  inputTokens: 1200,
  outputTokens: 80,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: null,
};
const task: Task = {
  id: 7,
  kind: 'dev',
  mode: 'start',
  issueRef: 'h/o/r#1',
  message: 'fix it',
  agent: 'command',
  model: null,
  state: 'running',
  attempts: 2,
  maxAttempts: 3,
  notBefore: null,
  waitReason: null,
  lastError: null,
  result: null,
  cancelRequested: false,
  usage,
  createdAt: 0,
  startedAt: 10,
  finishedAt: null,
};
const now = 1_000;

describe('settle', () => {
  it('completes: the result, the session idle with the agent session, the usage on the event', () => {
    const s = settle(
      task,
      { kind: 'completed', result: 'branch b · 1 file', agentSessionId: 'a1' },
      now,
    );
    expect(s).toEqual({
      task: { state: 'completed', result: 'branch b · 1 file', finishedAt: now, lastError: null },
      session: { state: 'idle', agentSessionId: 'a1', lastMessage: 'fix it' },
      event: { type: 'task_completed', data: { result: 'branch b · 1 file', usage } },
    });
  });

  it('retries a failure with attempts left after the delay, and tells which attempt failed', () => {
    const s = settle(
      task,
      { kind: 'failed', error: 'exit code 1', agentSessionId: null, retryDelayMs: 20_000 },
      now,
    );
    expect(s.task).toEqual({ state: 'pending', notBefore: 21_000, lastError: 'exit code 1' });
    expect(s.event).toEqual({
      type: 'task_retrying',
      data: { error: 'exit code 1', attempt: 2, maxAttempts: 3, retryDelayMs: 20_000 },
    });
  });

  it('ends a failure without retry in error', () => {
    const s = settle(
      task,
      { kind: 'failed', error: 'no key', agentSessionId: null, retryDelayMs: null },
      now,
    );
    expect(s.task).toEqual({ state: 'error', lastError: 'no key', finishedAt: now });
    expect(s.event?.type).toBe('task_error');
  });

  it('leaves the session after a stop or an interruption; an interruption gives the attempt back, silently', () => {
    expect(settle(task, { kind: 'cancelled', agentSessionId: null }, now)).toMatchObject({
      task: { state: 'cancelled', finishedAt: now },
      session: { state: 'left' },
      event: { type: 'task_cancelled' },
    });
    expect(settle(task, { kind: 'interrupted', agentSessionId: 'a2' }, now)).toEqual({
      task: { state: 'pending', mode: 'resume', attempts: 1 },
      session: { state: 'left', agentSessionId: 'a2', lastMessage: 'fix it' },
      event: null,
    });
    // The PM agent has no session and keeps its mode.
    const pm = { ...task, kind: 'pm' as const, issueRef: null, mode: 'continue' as const };
    expect(settle(pm, { kind: 'interrupted', agentSessionId: null }, now)).toMatchObject({
      task: { mode: 'continue' },
      session: null,
    });
  });

  it('waits for the user with the question', () => {
    expect(
      settle(task, { kind: 'needs_input', question: 'which?', agentSessionId: null }, now),
    ).toMatchObject({
      task: { state: 'needs_input', result: 'which?' },
      session: { state: 'idle' },
      event: { type: 'task_needs_input', data: { question: 'which?' } },
    });
  });
});

describe('event text', () => {
  it.each([
    ['task_queued', { mode: 'continue' }, '#7 continue queued for h/o/r#1'],
    ['task_queued', { mode: 'start', requeued: true }, '#7 queued again by retry'],
    ['task_dequeued', { attempt: 1, maxAttempts: 3 }, '#7 dequeued (attempt 1/3)'],
    ['task_started', { attempt: 1, maxAttempts: 3 }, '#7 started on h/o/r#1 (attempt 1/3)'],
    ['task_completed', { result: 'done', usage }, '#7 completed: done · 1.2k in, 80 out'],
    [
      'task_retrying',
      { error: 'x', attempt: 1, maxAttempts: 3, retryDelayMs: 10_400 },
      '#7 attempt 1/3 failed (x); retrying in 10s',
    ],
    [
      'task_error',
      { error: 'x', attempt: 1, maxAttempts: 1, usage: null },
      '#7 failed after 1 attempt: x',
    ],
    ['task_cancelled', { beforeRun: true }, '#7 cancelled before it ran'],
    ['task_cancelled', {}, '#7 stopped'],
    [
      'approval_requested',
      { approvalId: 2, summary: 'wants to run ls (approval #2)' },
      '#7 wants to run ls (approval #2)',
    ],
  ] as const)('%s %j reads %j', (type, data, text) => {
    expect(eventText(type, 7, 'h/o/r#1', data)).toBe(text);
  });
});
