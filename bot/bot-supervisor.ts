/**
 * Keeps the bot running. grammY retries a failing getUpdates by itself; what it does not
 * cover — init (getMe) refused, the polling loop giving up (409), the webhook set-up failing —
 * ends an attempt, and the attempt is started again with backoff unless Telegram refused the
 * token. Every restart is logged and recorded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeFailure, stopOf, type ApiFailure } from './api-failure.js';
import type { HealthRecorder } from './health/health-recorder.js';
import { BOT_RESTART_POLICY, decideRestart, type RestartPolicy } from './restart-policy.js';

export type BotOutcome = 'shutdown' | 'unauthorized';

/**
 * One run of the bot until it stops; it calls `running` once it receives updates. Once
 * `signal` aborts it ends promptly, and cleans up before it settles.
 */
export type BotAttempt = (
  signal: AbortSignal,
  running: (username: string) => void,
) => Promise<void>;

export interface SuperviseOptions {
  recorder: HealthRecorder;
  scrub: (text: string) => string;
  log: (line: string) => void;
  /** Aborted for a clean shutdown: the only stop that is not restarted. */
  signal: AbortSignal;
  /** Each time the bot (again) receives updates. */
  onRunning: () => void;
  policy?: RestartPolicy;
  now?: () => number;
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`;

export async function superviseBot(
  attempt: BotAttempt,
  options: SuperviseOptions,
): Promise<BotOutcome> {
  const { recorder, log, signal } = options;
  const now = options.now ?? Date.now;
  let failures = 0;
  for (;;) {
    recorder.record({ kind: 'starting' });
    const run = { runningAt: null as number | null };
    let failure: ApiFailure;
    try {
      await attempt(signal, (username) => {
        run.runningAt = now();
        recorder.record({ kind: 'running', username });
        options.onRunning();
      });
      failure = { message: 'polling ended without being stopped', code: null };
    } catch (err) {
      failure = describeFailure(err, options.scrub);
    }
    if (signal.aborted) return 'shutdown';
    const stop = stopOf(failure);
    const ranMs = run.runningAt === null ? 0 : now() - run.runningAt;
    const decision = decideRestart(stop, { failures, ranMs }, options.policy ?? BOT_RESTART_POLICY);
    if (decision.action === 'give_up') {
      recorder.record({ kind: 'unauthorized', ...failure });
      log(
        'telegram bot stopped for good: Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized); fix TELEGRAM_BOT_TOKEN in config.env or the environment, then restart the daemon',
      );
      return 'unauthorized';
    }
    failures = decision.failures;
    const { restarts } = recorder.record({
      kind: 'restarting',
      ...failure,
      delayMs: decision.delayMs,
    });
    const why =
      stop === 'conflict'
        ? 'another process polls this bot token (409 Conflict); run one kugetsu daemon or bot per token'
        : failure.message;
    log(
      `telegram bot stopped: ${why}; restarting in ${seconds(decision.delayMs)} (restart ${restarts})`,
    );
    try {
      await sleep(decision.delayMs, undefined, { signal });
    } catch {
      return 'shutdown';
    }
  }
}
