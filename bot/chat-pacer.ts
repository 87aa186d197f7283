import { setTimeout as delay } from 'node:timers/promises';

/**
 * Telegram allows about one message a second per chat on average, and short bursts above it,
 * before flood control. A generic cell rate algorithm per chat keeps to that: a burst of a few
 * messages goes out at once (an approval is not kept waiting behind the queued and started
 * pushes before it), then one a second. 429s stay rare; auto-retry handles the ones that come.
 */
export class ChatPacer {
  /** Per chat: when the next message would be due at the steady rate. */
  private readonly due = new Map<number, number>();

  constructor(
    private readonly gapMs = 1_000,
    private readonly burst = 4,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when a message may go to `chatId`, and books that slot. */
  async wait(chatId: number): Promise<void> {
    const at = this.book(chatId);
    const now = this.now();
    if (at > now) await delay(at - now);
  }

  /** Books the next slot for `chatId` and returns when it is. */
  book(chatId: number): number {
    const now = this.now();
    const due = Math.max(this.due.get(chatId) ?? now, now);
    this.due.set(chatId, due + this.gapMs);
    return Math.max(now, due - (this.burst - 1) * this.gapMs);
  }
}
