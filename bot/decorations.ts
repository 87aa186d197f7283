/**
 * Start-up calls that only decorate the bot (its command menu). They are best effort: a
 * failure is logged and retried with backoff, and never keeps the bot from polling.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs } from '../core/retry-policy.js';
import { describeFailure } from './api-failure.js';
import { BOT_RESTART_POLICY } from './restart-policy.js';

export interface Decoration {
  name: string;
  apply: (signal: AbortSignal) => Promise<unknown>;
}

export interface DecorateOptions {
  scrub: (text: string) => string;
  log: (line: string) => void;
  signal: AbortSignal;
}

export function decorate(decorations: readonly Decoration[], options: DecorateOptions): void {
  for (const decoration of decorations) void keepTrying(decoration, options);
}

async function keepTrying(decoration: Decoration, options: DecorateOptions): Promise<void> {
  const { log, signal } = options;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await decoration.apply(signal);
      if (attempt > 1) log(`telegram ${decoration.name} succeeded on attempt ${attempt}`);
      return;
    } catch (err) {
      if (signal.aborted) return;
      const failure = describeFailure(err, options.scrub);
      // A refused token stops the bot itself, which says so; decorating it is pointless.
      if (failure.code === 401) return;
      const delayMs = backoffMs(attempt, BOT_RESTART_POLICY);
      log(`telegram ${decoration.name} failed: ${failure.message}; retrying in ${delayMs / 1000}s`);
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        return;
      }
    }
  }
}
