/** Retry policy as data; the backoff is a pure function of the attempt that failed. */
export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  capMs: number;
}

export const BACKOFF_CAP_MS = 5 * 60_000;

/** Delay before the attempt after `failedAttempt` (1-based): base, doubling, capped. */
export function backoffMs(
  failedAttempt: number,
  policy: Pick<RetryPolicy, 'baseMs' | 'capMs'>,
): number {
  const exponent = Math.max(0, failedAttempt - 1);
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(exponent, 30));
}

export type FailureDecision = { retry: true; delayMs: number } | { retry: false };

export function decideAfterFailure(failedAttempt: number, policy: RetryPolicy): FailureDecision {
  if (failedAttempt >= policy.maxAttempts) return { retry: false };
  return { retry: true, delayMs: backoffMs(failedAttempt, policy) };
}
