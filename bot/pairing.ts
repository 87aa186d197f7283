/**
 * Pairing: a stranger asks the bot for access and gets a short one-time code; the owner
 * approves it on the server (`kugetsu bot allow CODE`). Approved users join
 * TELEGRAM_ALLOWED_USERS. Codes expire after an hour and only a few may be pending at once,
 * so the bot cannot be used to fill the store.
 */
import { randomInt } from 'node:crypto';
import { OperationError, UsageError, quote } from '../core/errors.js';
import type { BotStateRecords } from './store/bot-store.js';

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

async function pending(
  state: BotStateRecords,
  now: number,
): Promise<{ code: string; request: PairingRequest }[]> {
  const live: { code: string; request: PairingRequest }[] = [];
  for (const entry of await state.list(PENDING)) {
    const request = JSON.parse(entry.value) as PairingRequest;
    if (now - request.createdAt >= PAIRING_TTL_MS) await state.delete(entry.key);
    else live.push({ code: entry.key.slice(PENDING.length), request });
  }
  return live;
}

/** The user's pending code (the same one if asked again), or null when too many are pending. */
export async function requestPairing(
  state: BotStateRecords,
  userId: number,
  name: string,
  now = Date.now(),
): Promise<string | null> {
  const live = await pending(state, now);
  const existing = live.find((p) => p.request.userId === userId);
  if (existing !== undefined) return existing.code;
  if (live.length >= MAX_PENDING_PAIRINGS) return null;
  const code = newPairingCode();
  await state.set(
    `${PENDING}${code}`,
    JSON.stringify({ userId, name, createdAt: now } satisfies PairingRequest),
    now,
  );
  return code;
}

export function listPairings(
  state: BotStateRecords,
  now = Date.now(),
): Promise<{ code: string; request: PairingRequest }[]> {
  return pending(state, now);
}

/** Approves a pending code; the user may use the bot from now on. */
export async function approvePairing(
  state: BotStateRecords,
  input: string,
  now = Date.now(),
): Promise<PairingRequest> {
  const code = input.trim().toUpperCase();
  if (!CODE.test(code))
    throw new UsageError(`invalid pairing code ${quote(input)}: expected XXXX-XXXX`);
  const match = (await pending(state, now)).find((p) => p.code === code);
  if (match === undefined)
    throw new OperationError(
      `pairing code ${code} is unknown or expired: ask for a new one with /start`,
    );
  await state.move(
    `${PENDING}${code}`,
    { key: `${APPROVED}${match.request.userId}`, value: JSON.stringify(match.request) },
    now,
  );
  return match.request;
}

export async function approvedUsers(state: BotStateRecords): Promise<number[]> {
  return (await state.list(APPROVED)).map((e) => Number(e.key.slice(APPROVED.length)));
}

export async function revokeUser(state: BotStateRecords, userId: number): Promise<boolean> {
  return (await state.take(`${APPROVED}${userId}`)) !== null;
}
