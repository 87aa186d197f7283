/**
 * Per-token rate limiting: a token bucket per key, holding up to a minute's allowance and
 * refilled continuously, so a burst is allowed and a steady flood is not. Pure but for the
 * clock it is given; keys idle long enough to be full again are forgotten.
 */
export interface RateDecision {
  ok: boolean;
  /** Whole seconds until one more request would be allowed (for Retry-After); 0 when ok. */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    /** Requests per minute per key; the bucket holds as many. */
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  take(key: string): RateDecision {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    const tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    if (this.buckets.size > 10_000) this.forgetFull(now);
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      return { ok: true, retryAfterSeconds: 0 };
    }
    this.buckets.set(key, { tokens, at: now });
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000)),
    };
  }

  private forgetFull(now: number): void {
    for (const [key, b] of this.buckets)
      if (b.tokens + (now - b.at) * this.perMs >= this.perMinute) this.buckets.delete(key);
  }
}
