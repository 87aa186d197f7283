/**
 * Keeps this process's bot health record and writes it to the store when it changes, and a
 * successful fetch no more often than every few seconds.
 */
import {
  initialBotHealth,
  nextBotHealth,
  shouldWriteBotHealth,
  type BotHealth,
  type BotHealthEvent,
  type BotMode,
} from './bot-health.js';
import { currentProcess } from '../../core/process-info.js';
import type { BotStateRecords } from '../store/bot-store.js';

export class HealthRecorder {
  private health: BotHealth;
  private written: BotHealth | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: BotStateRecords,
    /** `botHealthKey` of this machine. */
    private readonly key: string,
    private readonly log: (line: string) => void,
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

  /** Resolves once every record made so far is written. */
  flushed(): Promise<void> {
    return this.writing;
  }

  record(event: BotHealthEvent): BotHealth {
    const now = this.now();
    this.health = nextBotHealth(this.health, event, now);
    if (shouldWriteBotHealth(this.written, this.health)) {
      this.written = this.health;
      const value = JSON.stringify(this.health);
      // In order, one at a time; the record is for other processes to read, so a failed write
      // is logged and the next change writes again.
      this.writing = this.writing
        .then(() => this.state.set(this.key, value, now))
        .catch((err: unknown) => {
          this.written = null;
          this.log(`bot health not recorded: ${err instanceof Error ? err.message : String(err)}`);
        });
    }
    return this.health;
  }
}
