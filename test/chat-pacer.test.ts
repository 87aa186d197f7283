import { describe, expect, it } from 'vitest';
import { ChatPacer } from '../bot/chat-pacer.js';

describe('chat pacer', () => {
  it('lets a burst through at once, then one message a second, per chat', () => {
    let now = 10_000;
    const pacer = new ChatPacer(1_000, 4, () => now);
    const slots = Array.from({ length: 7 }, () => pacer.book(1) - 10_000);
    expect(slots).toEqual([0, 0, 0, 0, 1_000, 2_000, 3_000]);
    // Another chat has a bucket of its own.
    expect(pacer.book(2)).toBe(10_000);
    // After a quiet spell the burst is back, never more than it.
    now = 60_000;
    expect(Array.from({ length: 5 }, () => pacer.book(1) - 60_000)).toEqual([0, 0, 0, 0, 1_000]);
  });

  it('refills at the steady rate: one free slot per second of quiet', () => {
    let now = 0;
    const pacer = new ChatPacer(1_000, 4, () => now);
    for (let i = 0; i < 4; i += 1) pacer.book(1);
    now = 1_500;
    expect(pacer.book(1)).toBe(1_500);
    expect(pacer.book(1)).toBe(2_000);
  });
});
