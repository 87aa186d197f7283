import { describe, expect, it } from 'vitest';
import { BOT_RESTART_POLICY, decideRestart } from '../bot/restart-policy.js';

describe('bot restart policy', () => {
  it('restarts after 1 s, doubling to a cap of 5 minutes', () => {
    let failures = 0;
    const delays: number[] = [];
    for (let i = 0; i < 11; i += 1) {
      const decision = decideRestart('failed', { failures, ranMs: 0 });
      if (decision.action !== 'restart') throw new Error('expected a restart');
      delays.push(decision.delayMs);
      failures = decision.failures;
    }
    expect(delays).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000,
    ]);
  });

  it('gives up for good on a refused token (401), and only then', () => {
    expect(decideRestart('unauthorized', { failures: 0, ranMs: 0 })).toEqual({ action: 'give_up' });
    expect(decideRestart('unauthorized', { failures: 5, ranMs: 3_600_000 })).toEqual({
      action: 'give_up',
    });
  });

  it('retries a rival poller (409) with the same backoff: it may go away', () => {
    expect(decideRestart('conflict', { failures: 0, ranMs: 0 })).toEqual({
      action: 'restart',
      delayMs: 1_000,
      failures: 1,
    });
    expect(decideRestart('conflict', { failures: 3, ranMs: 200 })).toEqual({
      action: 'restart',
      delayMs: 8_000,
      failures: 4,
    });
  });

  it('starts the backoff afresh after a run that stayed up for a minute', () => {
    const stable = BOT_RESTART_POLICY.stableMs;
    expect(decideRestart('failed', { failures: 8, ranMs: stable })).toEqual({
      action: 'restart',
      delayMs: 1_000,
      failures: 1,
    });
    expect(decideRestart('failed', { failures: 8, ranMs: stable - 1 })).toEqual({
      action: 'restart',
      delayMs: 256_000,
      failures: 9,
    });
  });
});
