/**
 * Follows a task to its end: streams each attempt's transcript as it grows and reports why
 * it waits while pending. Used by `start` (waiting) and `logs -f`. Reads files and the store
 * only; it never holds a lock.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { isFinished, type Task } from './domain.js';
import type { HomeContext } from './home-context.js';

export interface FollowHandlers {
  text(chunk: string): void;
  waiting(reason: string): void;
}

const POLL_MS = 100;

export async function followTask(
  ctx: HomeContext,
  taskId: number,
  handlers: FollowHandlers,
  signal?: AbortSignal,
): Promise<Task | null> {
  const offsets = new Map<string, number>();
  let lastReason: string | null = null;
  for (;;) {
    const task = await ctx.store.tasks.get(taskId);
    if (task === null) return null;
    for (const run of await ctx.store.runs.list(taskId)) {
      const from = offsets.get(run.transcript) ?? 0;
      const chunk = readFrom(run.transcript, from);
      if (chunk.length > 0) {
        offsets.set(run.transcript, from + chunk.length);
        handlers.text(chunk.toString('utf8'));
      }
    }
    const finished = isFinished(task.state);
    if (finished) return task;
    if (task.state === 'pending') {
      const reason = task.waitReason ?? 'waiting for the daemon to pick it up';
      if (reason !== lastReason) handlers.waiting(reason);
      lastReason = reason;
    } else {
      lastReason = null;
    }
    if (signal?.aborted === true) return task;
    await delay(POLL_MS);
  }
}

/** The whole lines of a file after byte `offset`: what a follower has not seen yet. */
export function readFrom(path: string, offset: number): Buffer {
  if (!existsSync(path)) return Buffer.alloc(0);
  const size = statSync(path).size;
  if (size <= offset) return Buffer.alloc(0);
  // Stop at the last newline so a multi-byte character or a line is never split.
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(size - offset);
    const read = readSync(fd, buffer, 0, buffer.length, offset);
    const data = buffer.subarray(0, read);
    const end = data.lastIndexOf(0x0a);
    return end === -1 ? Buffer.alloc(0) : data.subarray(0, end + 1);
  } finally {
    closeSync(fd);
  }
}
