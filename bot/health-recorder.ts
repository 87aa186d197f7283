/**
 * Keeps this process's bot health record and writes it to the store when it changes, and a
 * successful fetch no more often than every few seconds.
 */
import {
  BOT_HEALTH_KEY,
  initialBotHealth,
  nextBotHealth,
  shouldWriteBotHealth,
  type BotHealth,
  type BotHealthEvent,
  type BotMode,
} from '../core/bot-health.js';
import { currentProcess } from '../core/process-info.js';
import type { Store } from '../core/store/store.js';

export class HealthRecorder {
  private health: BotHealth;
  private written: BotHealth | null = null;

  constructor(
    private readonly store: Store,
    mode: BotMode,
    private readonly now: () => number = Date.now,
  ) {
    this.health = initialBotHealth(currentProcess(), mode, now());
  }

  get current(): BotHealth {
    return this.health;
  }

  /** Whether anything was recorded: a bot that never started must not overwrite another's row. */
  get started(): boolean {
    return this.written !== null;
  }

  record(event: BotHealthEvent): BotHealth {
    const now = this.now();
    this.health = nextBotHealth(this.health, event, now);
    if (shouldWriteBotHealth(this.written, this.health)) {
      this.store.setBotState(BOT_HEALTH_KEY, JSON.stringify(this.health), now);
      this.written = this.health;
    }
    return this.health;
  }
}
