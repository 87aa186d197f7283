/** When the bot supervisor starts the bot again after it stopped on its own. Pure. */
import { BACKOFF_CAP_MS, backoffMs } from '../core/retry-policy.js';

/**
 * Why the bot stopped when nobody asked it to: Telegram refused the token (401), another
 * process polls the token (409), or anything else (init, the polling loop, the webhook set-up).
 */
export type BotStop = 'unauthorized' | 'conflict' | 'failed';

export interface RestartPolicy {
  baseMs: number;
  capMs: number;
  /** A run that lasted this long was healthy: the next failure starts the backoff afresh. */
  stableMs: number;
}

export const BOT_RESTART_POLICY: RestartPolicy = {
  baseMs: 1_000,
  capMs: BACKOFF_CAP_MS,
  stableMs: 60_000,
};

export interface RunHistory {
  /** Failures in a row before this one. */
  failures: number;
  /** How long the run that just stopped was up (0 if it never got there). */
  ranMs: number;
}

export type RestartDecision =
  { action: 'give_up' } | { action: 'restart'; delayMs: number; failures: number };

export function decideRestart(
  stop: BotStop,
  history: RunHistory,
  policy: RestartPolicy = BOT_RESTART_POLICY,
): RestartDecision {
  // A refused token stays refused until someone changes it; retrying only hammers Telegram.
  if (stop === 'unauthorized') return { action: 'give_up' };
  // A rival poller may go away (a daemon being replaced), so a conflict is retried like the rest.
  const failures = history.ranMs >= policy.stableMs ? 1 : history.failures + 1;
  return { action: 'restart', delayMs: backoffMs(failures, policy), failures };
}
