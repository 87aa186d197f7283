/**
 * Writes started from synchronous callbacks (an agent's output lines), run one after another in
 * the order they were pushed. The first failure is kept and reported by `drained`, so a write
 * that did not land fails the attempt instead of vanishing.
 */
export class WriteQueue {
  private tail: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | null = null;

  push(write: () => Promise<void>): void {
    this.tail = this.tail.then(write).catch((error: unknown) => {
      this.failure ??= { error };
    });
  }

  /** Resolves once every write pushed so far has run; rejects with the first that failed. */
  async drained(): Promise<void> {
    await this.tail;
    if (this.failure !== null) throw this.failure.error;
  }
}
