import { describe, expect, it } from 'vitest';
import { backoffMs, decideAfterFailure, BACKOFF_CAP_MS } from '../core/retry-policy.js';

const policy = { maxAttempts: 3, baseMs: 10_000, capMs: BACKOFF_CAP_MS };

describe('retry policy', () => {
  it('starts at the base, doubles, and caps at 5 minutes', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffMs(a, policy))).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000, 300_000,
    ]);
    expect(backoffMs(1_000, policy)).toBe(300_000);
  });

  it('retries until the last attempt, then gives up', () => {
    expect(decideAfterFailure(1, policy)).toEqual({ retry: true, delayMs: 10_000 });
    expect(decideAfterFailure(2, policy)).toEqual({ retry: true, delayMs: 20_000 });
    expect(decideAfterFailure(3, policy)).toEqual({ retry: false });
  });
});
