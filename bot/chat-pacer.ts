import { setTimeout as delay } from 'node:timers/promises';

/**
 * Telegram allows about one message a second per chat before flood control; pacing our own
 * pushes keeps 429s rare (auto-retry still handles the ones that come).
 */
export class ChatPacer {
  private readonly lastSent = new Map<number, number>();

  constructor(private readonly gapMs = 1_000) {}

  /** Resolves when a message may go to `chatId`, and books that slot. */
  async wait(chatId: number): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, (this.lastSent.get(chatId) ?? -Infinity) + this.gapMs);
    this.lastSent.set(chatId, at);
    if (at > now) await delay(at - now);
  }
}
