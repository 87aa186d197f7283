/**
 * What every outgoing Bot API call passes through: flood control, the plain-text fallback,
 * and the scrubber, whatever handler produced the call.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import type { Api } from 'grammy';
import type { HomeContext } from '../../core/home-context.js';
import { LIFECYCLE_METHODS } from '../lifecycle-observer.js';
import { plainTextFallback } from '../plain-text-fallback.js';

export function installOutgoing(api: Api, home: Pick<HomeContext, 'scrubber'>): void {
  // Flood control: wait out 429 retry_after and retry (never a hand-written loop). Not the
  // calls that start and poll the bot: grammY retries those itself (getUpdates every 3 s), the
  // supervisor the webhook's; autoRetry's doubling to an hour would keep the bot deaf long after
  // Telegram is back, and hide each failure from the bot's health record.
  const retry = autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 120 });
  api.config.use((prev, method, payload, signal) =>
    LIFECYCLE_METHODS.has(method)
      ? prev(method, payload, signal)
      : retry(prev, method, payload, signal),
  );
  api.config.use(plainTextFallback);
  api.config.use((prev, method, payload, signal) =>
    prev(method, scrubPayload(payload, home), signal),
  );
}

/** Scrubs the human-readable fields of an outgoing Bot API payload. */
function scrubPayload<P>(payload: P, home: Pick<HomeContext, 'scrubber'>): P {
  if (payload === null || typeof payload !== 'object') return payload;
  const scrubber = home.scrubber();
  const copy: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  for (const key of ['text', 'caption']) {
    const value = copy[key];
    if (typeof value === 'string') copy[key] = scrubber.scrub(value);
  }
  return copy as P;
}
