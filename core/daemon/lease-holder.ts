/**
 * Holds a named lease of the fleet (the bot's leadership) for as long as this worker lives: it
 * asks for it a few times per term, tells when it is gained and when it is lost, and gives it up
 * on stop. A renewal the database cannot answer keeps the lease until its term would end.
 */
import { errorMessage } from '../errors.js';
import type { LockRecords } from '../store/store-interface.js';

export interface LeaseHooks {
  gained(): void;
  lost(): void;
  log(line: string): void;
}

const ASKS_PER_TERM = 3;

export class LeaseHolder {
  private timer: NodeJS.Timeout | null = null;
  private heldUntil: number | null = null;
  private asking: Promise<void> = Promise.resolve();

  constructor(
    private readonly locks: LockRecords,
    private readonly name: string,
    private readonly holder: string,
    private readonly termMs: number,
    private readonly hooks: LeaseHooks,
  ) {}

  get held(): boolean {
    return this.heldUntil !== null;
  }

  start(): void {
    this.asking = this.ask();
    this.timer = setInterval(
      () => {
        this.asking = this.asking.then(() => this.ask());
      },
      Math.max(100, Math.floor(this.termMs / ASKS_PER_TERM)),
    );
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.asking;
    if (this.heldUntil === null) return;
    this.heldUntil = null;
    await this.locks.releaseLease(this.name, this.holder).catch(() => undefined);
  }

  private async ask(): Promise<void> {
    const askedAt = Date.now();
    let renewed: boolean;
    try {
      renewed = await this.locks.acquireLease(this.name, this.holder, this.termMs, askedAt);
    } catch (err) {
      // Out of reach: another worker may take it once the term ends, so it ends here too.
      if (this.heldUntil !== null && Date.now() < this.heldUntil) return;
      if (this.heldUntil !== null)
        this.hooks.log(`${this.name} lease cannot be renewed: ${errorMessage(err)}`);
      renewed = false;
    }
    if (renewed) {
      const was = this.heldUntil;
      this.heldUntil = askedAt + this.termMs;
      if (was === null) this.hooks.gained();
    } else if (this.heldUntil !== null) {
      this.heldUntil = null;
      this.hooks.lost();
    }
  }
}
