/**
 * Watches the calls that tell whether the bot is alive. grammY retries a failed getUpdates
 * (every 3 s) and getMe or deleteWebhook (with backoff) by itself and only reports it to its
 * debug log: this is where kugetsu learns of it, records it and says so once per outage.
 */
import type { Transformer } from 'grammy';
import { describeFailure, describeRefusal, type ApiFailure } from './api-failure.js';
import type { HealthRecorder } from './health/health-recorder.js';

/** The calls that start and poll the bot. */
export const LIFECYCLE_METHODS: ReadonlySet<string> = new Set([
  'getMe',
  'deleteWebhook',
  'getUpdates',
  'setWebhook',
]);

export interface LifecycleObserverOptions {
  recorder: HealthRecorder;
  scrub: (text: string) => string;
  log: (line: string) => void;
  /** Once set, failures are the shutdown's own (an aborted poll), not news. */
  stopping: AbortSignal;
  /** getUpdates works again after failing. */
  onRecovered: () => void;
}

export function lifecycleObserver(options: LifecycleObserverOptions): Transformer {
  const { recorder, log, stopping } = options;

  function failed(method: string, failure: ApiFailure): void {
    if (stopping.aborted) return;
    const before = recorder.current;
    const after = recorder.record({ kind: 'failed', ...failure });
    if (before.state !== 'retrying' && after.state === 'retrying')
      log(`telegram ${method} failed: ${failure.message}`);
  }

  function succeeded(method: string): void {
    if (method !== 'getUpdates' || stopping.aborted) return;
    const before = recorder.current;
    const after = recorder.record({ kind: 'ok' });
    if (before.state === 'retrying' && after.state === 'running') {
      log(
        `telegram getUpdates works again after ${Math.round((after.since - before.since) / 1000)}s`,
      );
      options.onRecovered();
    }
  }

  return async (prev, method, payload, signal) => {
    if (!LIFECYCLE_METHODS.has(method)) return prev(method, payload, signal);
    try {
      const answer = await prev(method, payload, signal);
      if (answer.ok) succeeded(method);
      else failed(method, describeRefusal(method, answer, options.scrub));
      return answer;
    } catch (err) {
      failed(method, describeFailure(err, options.scrub));
      throw err;
    }
  };
}
