/** The run's write queue: writes from output callbacks land in order, and none is lost silently. */
import { describe, expect, it } from 'vitest';
import { WriteQueue } from '../core/runner/write-queue.js';

const later = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('WriteQueue', () => {
  it('runs each write after the one before it has finished', async () => {
    const queue = new WriteQueue();
    const done: string[] = [];
    queue.push(async () => {
      await later(5);
      done.push('pid');
    });
    queue.push(() => {
      done.push('session');
      return Promise.resolve();
    });
    await queue.drained();
    expect(done).toEqual(['pid', 'session']);
  });

  it('goes on after a failed write, and reports the first failure when drained', async () => {
    const queue = new WriteQueue();
    const done: string[] = [];
    queue.push(() => Promise.reject(new Error('database is locked')));
    queue.push(() => Promise.reject(new Error('second')));
    queue.push(() => {
      done.push('usage');
      return Promise.resolve();
    });
    await expect(queue.drained()).rejects.toThrow('database is locked');
    expect(done).toEqual(['usage']);
  });
});
