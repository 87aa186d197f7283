/**
 * Pairing: a stranger asks the bot for access and gets a short one-time code; the owner
 * approves it on the server (`kugetsu bot allow CODE`). Approved users join
 * TELEGRAM_ALLOWED_USERS. Codes expire after an hour and only a few may be pending at once,
 * so the bot cannot be used to fill the store.
 */
import { randomInt } from 'node:crypto';
import { OperationError, UsageError, quote } from '../errors.js';
import type { Store } from '../store/store.js';

export const PAIRING_TTL_MS = 60 * 60_000;
export const MAX_PENDING_PAIRINGS = 5;
// No 0/O, 1/I/L: codes are read off a phone and typed on a server.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE = /^[A-Z2-9]{4}-[A-Z2-9]{4}$/;
const PENDING = 'pairing:';
const APPROVED = 'approved_user:';

export interface PairingRequest {
  userId: number;
  name: string;
  createdAt: number;
}

export function newPairingCode(random: (max: number) => number = randomInt): string {
  const pick = (): string => ALPHABET[random(ALPHABET.length)] ?? 'A';
  const half = (): string => Array.from({ length: 4 }, pick).join('');
  return `${half()}-${half()}`;
}

function pending(store: Store, now: number): { code: string; request: PairingRequest }[] {
  const live: { code: string; request: PairingRequest }[] = [];
  for (const entry of store.listBotState(PENDING)) {
    const request = JSON.parse(entry.value) as PairingRequest;
    if (now - request.createdAt >= PAIRING_TTL_MS) store.deleteBotState(entry.key);
    else live.push({ code: entry.key.slice(PENDING.length), request });
  }
  return live;
}

/** The user's pending code (the same one if asked again), or null when too many are pending. */
export function requestPairing(
  store: Store,
  userId: number,
  name: string,
  now = Date.now(),
): string | null {
  const live = pending(store, now);
  const existing = live.find((p) => p.request.userId === userId);
  if (existing !== undefined) return existing.code;
  if (live.length >= MAX_PENDING_PAIRINGS) return null;
  const code = newPairingCode();
  store.setBotState(
    `${PENDING}${code}`,
    JSON.stringify({ userId, name, createdAt: now } satisfies PairingRequest),
    now,
  );
  return code;
}

export function listPairings(
  store: Store,
  now = Date.now(),
): { code: string; request: PairingRequest }[] {
  return pending(store, now);
}

/** Approves a pending code; the user may use the bot from now on. */
export function approvePairing(store: Store, input: string, now = Date.now()): PairingRequest {
  const code = input.trim().toUpperCase();
  if (!CODE.test(code))
    throw new UsageError(`invalid pairing code ${quote(input)}: expected XXXX-XXXX`);
  const match = pending(store, now).find((p) => p.code === code);
  if (match === undefined)
    throw new OperationError(
      `pairing code ${code} is unknown or expired: ask for a new one with /start`,
    );
  store.setBotState(`${APPROVED}${match.request.userId}`, JSON.stringify(match.request), now);
  store.deleteBotState(`${PENDING}${code}`);
  return match.request;
}

export function approvedUsers(store: Store): number[] {
  return store.listBotState(APPROVED).map((e) => Number(e.key.slice(APPROVED.length)));
}

export function revokeUser(store: Store, userId: number): boolean {
  const had = store.getBotState(`${APPROVED}${userId}`) !== null;
  store.deleteBotState(`${APPROVED}${userId}`);
  return had;
}
