/**
 * The Telegram bot's live state as it is kept in the bot's store, so that other processes
 * (`status`, `doctor`, the bot's own `/status`) can see it: the record, its transitions and
 * when a change is worth a write. Pure, except `readBotHealth`.
 */
import { z } from 'zod';
import type { ProcessIdentity } from '../../core/process-info.js';
import type { BotStateRecords } from '../store/bot-store.js';

/** The `bot_state` key the record lives under. */
export const BOT_HEALTH_KEY = 'bot_health';

/**
 * The record's key for this machine. On a fleet the bot's store is shared, but a record names
 * a process by its pid, which only its own machine can check: each worker keeps its own.
 */
export function botHealthKey(fleet: { worker: string } | null): string {
  return fleet === null ? BOT_HEALTH_KEY : `${BOT_HEALTH_KEY}:${fleet.worker}`;
}

/**
 * A successful fetch is written at most this often: a long poll returns every few seconds when
 * updates flow, and one row write per update would be wasted I/O.
 */
export const HEARTBEAT_MS = 5_000;

export type BotMode = 'polling' | 'webhook';
export type BotRunState = 'starting' | 'running' | 'retrying' | 'stopped' | 'unauthorized';

export interface BotError {
  at: number;
  /** Already scrubbed of secrets. */
  message: string;
  /** Telegram's `error_code` (401, 409, 502, …); null for a network failure. */
  code: number | null;
}

export interface BotHealth {
  /** The process running the bot: the daemon, or a standalone `kugetsu bot`. */
  owner: ProcessIdentity;
  mode: BotMode;
  state: BotRunState;
  /** When `state` began. */
  since: number;
  username: string | null;
  /** The last successful getUpdates (polling) or authentic webhook call (webhook). */
  lastOkAt: number | null;
  lastError: BotError | null;
  /** Restarts by the supervisor since the process started the bot. */
  restarts: number;
  /** When the supervisor tries again; null while grammY retries on its own or nothing waits. */
  nextRetryAt: number | null;
}

export type BotHealthEvent =
  | { kind: 'starting' }
  | { kind: 'running'; username: string }
  /** A successful getUpdates or webhook call. */
  | { kind: 'ok' }
  /** A lifecycle call failed; grammY may be retrying it by itself. */
  | { kind: 'failed'; message: string; code: number | null }
  | { kind: 'restarting'; message: string; code: number | null; delayMs: number }
  | { kind: 'unauthorized'; message: string; code: number | null }
  | { kind: 'stopped' };

export function initialBotHealth(owner: ProcessIdentity, mode: BotMode, now: number): BotHealth {
  return {
    owner,
    mode,
    state: 'starting',
    since: now,
    username: null,
    lastOkAt: null,
    lastError: null,
    restarts: 0,
    nextRetryAt: null,
  };
}

export function nextBotHealth(health: BotHealth, event: BotHealthEvent, now: number): BotHealth {
  const enter = (state: BotRunState): BotHealth => ({
    ...health,
    state,
    since: now,
    nextRetryAt: null,
  });
  switch (event.kind) {
    case 'starting':
      return enter('starting');
    case 'running':
      return { ...enter('running'), username: event.username };
    case 'ok': {
      // Back from a failure grammY retried by itself (the supervisor's retries set nextRetryAt).
      const recovered = health.state === 'retrying' && health.nextRetryAt === null;
      return { ...(recovered ? enter('running') : health), lastOkAt: now };
    }
    case 'failed': {
      const lastError = { at: now, message: event.message, code: event.code };
      const live = health.state === 'starting' || health.state === 'running';
      return live ? { ...enter('retrying'), lastError } : { ...health, lastError };
    }
    case 'restarting':
      return {
        ...enter('retrying'),
        lastError: { at: now, message: event.message, code: event.code },
        restarts: health.restarts + 1,
        nextRetryAt: now + event.delayMs,
      };
    case 'unauthorized':
      return {
        ...enter('unauthorized'),
        lastError: { at: now, message: event.message, code: event.code },
      };
    case 'stopped':
      return enter('stopped');
  }
}

/** Whether `next` must reach the store: any change but a fresher fetch, or a stale heartbeat. */
export function shouldWriteBotHealth(written: BotHealth | null, next: BotHealth): boolean {
  if (written === null) return true;
  if (JSON.stringify({ ...written, lastOkAt: 0 }) !== JSON.stringify({ ...next, lastOkAt: 0 }))
    return true;
  if (next.lastOkAt === null) return false;
  return written.lastOkAt === null || next.lastOkAt - written.lastOkAt >= HEARTBEAT_MS;
}

const botHealthSchema = z.object({
  owner: z.object({ pid: z.number(), start: z.string(), ns: z.string().optional() }),
  mode: z.enum(['polling', 'webhook']),
  state: z.enum(['starting', 'running', 'retrying', 'stopped', 'unauthorized']),
  since: z.number(),
  username: z.string().nullable(),
  lastOkAt: z.number().nullable(),
  lastError: z
    .object({ at: z.number(), message: z.string(), code: z.number().nullable() })
    .nullable(),
  restarts: z.number(),
  nextRetryAt: z.number().nullable(),
});

/** The stored record; a missing or unreadable row (another version wrote it) is none. */
export function parseBotHealth(raw: string | null): BotHealth | null {
  if (raw === null) return null;
  try {
    const parsed = botHealthSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function readBotHealth(
  state: BotStateRecords,
  key: string,
): Promise<BotHealth | null> {
  return parseBotHealth(await state.get(key));
}
