/** The HTTP API's pure parts: credentials, the rate limiter, error mapping, usage by day, the feed. */
import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  checkTokenName,
  hashSecret,
  newLoginCode,
  newToken,
  sameHash,
} from '../core/api-tokens.js';
import { OperationError, UsageError } from '../core/errors.js';
import { usageByDay } from '../core/usage-by-day.js';
import { EventFeed } from '../src/api/event-feed.js';
import { ProblemError, problem, problemOf } from '../src/api/problem.js';
import { RateLimiter } from '../src/api/rate-limit.js';

describe('API credentials', () => {
  it('makes unguessable tokens and codes, and compares their hashes exactly', () => {
    const token = newToken();
    expect(token).toMatch(/^kgt_[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(token);
    expect(newLoginCode()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const hash = hashSecret(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(sameHash(hash, hashSecret(token))).toBe(true);
    expect(sameHash(hash, hashSecret(`${token}x`))).toBe(false);
    expect(sameHash(hash, hash.slice(0, 62))).toBe(false);
    expect(sameHash('', '')).toBe(false);
  });

  it('reads only a well-formed bearer header', () => {
    expect(bearerToken('Bearer kgt_abc-_1')).toBe('kgt_abc-_1');
    for (const bad of [
      undefined,
      '',
      'Bearer',
      'bearer kgt_x',
      'Basic abc',
      'Bearer a b',
      `Bearer ${'a'.repeat(201)}`,
    ])
      expect(bearerToken(bad), String(bad)).toBeNull();
  });

  it('names tokens plainly', () => {
    expect(checkTokenName('phone-1.work_2')).toBe('phone-1.work_2');
    for (const bad of ['', '-x', 'a b', 'a/b', 'x'.repeat(65)])
      expect(() => checkTokenName(bad)).toThrow(UsageError);
  });
});

describe('RateLimiter', () => {
  it('allows a burst of a minute’s allowance, then one per refill, per key', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now);
    for (let i = 0; i < 60; i += 1) expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('b').ok).toBe(true);
    now += 999;
    expect(limiter.take('a').ok).toBe(false);
    now += 2;
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    now += 60_000;
    for (let i = 0; i < 60; i += 1) expect(limiter.take('a').ok).toBe(true);
  });

  it('says how long to wait at a slow rate', () => {
    const limiter = new RateLimiter(2, () => 0);
    limiter.take('a');
    limiter.take('a');
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 30 });
  });
});

describe('problemOf', () => {
  it('maps kugetsu’s errors to stable codes and hides a bug’s message', () => {
    expect(problemOf(new UsageError('message is empty'))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    expect(problemOf(new OperationError('task 9 not found'))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(problemOf(new OperationError('no task has run for a/b#1'))).toMatchObject({
      status: 404,
    });
    expect(problemOf(new OperationError('session x is in use'))).toMatchObject({
      status: 409,
      code: 'conflict',
    });
    const bug = problemOf(new Error('secret path /home/me/.token'));
    expect(bug).toMatchObject({ status: 500, code: 'internal' });
    expect(bug.detail).not.toContain('/home');
    const thrown = new ProblemError(problem(429, 'rate_limited', 'slow down'));
    expect(problemOf(thrown)).toMatchObject({
      status: 429,
      code: 'rate_limited',
      type: expect.stringContaining('rate_limited') as string,
    });
  });
});

describe('usageByDay', () => {
  const usage = (n: number) => ({
    inputTokens: n,
    outputTokens: 1,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0.5,
  });
  it('sums runs per UTC day and agent, oldest day first, since the cut-off', () => {
    const day = Date.UTC(2026, 11, 3);
    const runs = [
      { taskId: 1, startedAt: day + 1000, usage: usage(10) },
      { taskId: 2, startedAt: day + 2000, usage: usage(5) },
      { taskId: 1, startedAt: day - 1000, usage: null },
      { taskId: 3, startedAt: day + 3000, usage: usage(1) },
      { taskId: 1, startedAt: day - 86_400_000 - 1, usage: usage(1000) },
    ];
    const agents = new Map([
      [1, 'claude' as const],
      [2, 'codex' as const],
    ]);
    const report = usageByDay(runs, (id) => agents.get(id), day - 86_400_000);
    expect(report.days.map((d) => [d.day, d.agent, d.runs, d.usage.inputTokens])).toEqual([
      ['2026-12-02', 'claude', 1, 0],
      ['2026-12-03', 'claude', 1, 10],
      ['2026-12-03', 'codex', 1, 5],
      ['2026-12-03', 'unknown', 1, 1],
    ]);
    expect(report.total).toMatchObject({ inputTokens: 16, outputTokens: 3, costUsd: 1.5 });
  });
});

describe('EventFeed', () => {
  it('wakes waiters once a newer id is seen, polls only while someone waits, and times out', async () => {
    let latest = 5;
    let polls = 0;
    const events = {
      latestId: () => {
        polls += 1;
        return Promise.resolve(latest);
      },
    } as unknown as ConstructorParameters<typeof EventFeed>[0];
    const feed = new EventFeed(events, 5);
    const abort = new AbortController();
    const started = Date.now();
    await feed.next(5, 60, abort.signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    const woken = feed.next(5, 10_000, abort.signal);
    latest = 6;
    await woken;
    const idle = polls;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(polls).toBe(idle);
    const aborted = feed.next(6, 10_000, abort.signal);
    abort.abort();
    await aborted;
    feed.close();
  });
});
