/**
 * Learns promptly, and cheaply, that events were written — by this process or by another (the
 * daemon writes most of them). One poll of the newest event id for the whole server, however
 * many streams wait, and only while some wait: `SELECT MAX(id)` on the primary key costs
 * microseconds (docs/benchmarks.md), so a short interval keeps the delivery delay low for next
 * to nothing. Writes made through this server `poke` it and are seen at once.
 */
import type { StoreApi } from '../../core/store/store-interface.js';

export const FEED_POLL_MS = 25;

export class EventFeed {
  private latest = 0;
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly events: StoreApi['events'],
    private readonly pollMs = FEED_POLL_MS,
  ) {}

  /**
   * Resolves once an event with an id above `after` may exist, or after `timeoutMs` (for a
   * keep-alive), or when `signal` aborts; the caller then reads from the store.
   */
  async next(after: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.closed || signal.aborted) return;
    // No answer from memory: the newest id can go down (finished tasks are deleted with their
    // events), so only a fresh poll (≤ one interval away) or a poke says there is more.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timeout);
        signal.removeEventListener('abort', done);
        this.waiters.delete(wake);
        this.idle();
        resolve();
      };
      const wake = (): void => {
        if (this.latest > after) done();
      };
      const timeout = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(wake);
      this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    });
  }

  /** Something was written here: look now rather than at the next tick. */
  poke(): void {
    if (this.waiters.size > 0) void this.poll();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.closed = true;
    this.latest = Number.MAX_SAFE_INTEGER;
    for (const wake of [...this.waiters]) wake();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.latest = await this.events.latestId();
      for (const wake of [...this.waiters]) wake();
    } catch {
      // A failed poll (a busy database) is retried at the next tick.
    } finally {
      this.polling = false;
    }
  }

  private idle(): void {
    if (this.waiters.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
