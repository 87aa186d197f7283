/**
 * HTTP API credentials: bearer tokens and one-time login codes. Only their sha256 is stored, so
 * a copy of the database grants nothing; 32 random bytes need no slow hash. The comparison of
 * hashes is constant-time, so response times say nothing about how close a guess came.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UsageError, quote } from './errors.js';

const TOKEN_PREFIX = 'kgt_';
/** How long a login link works: long enough to open it, too short to be worth stealing. */
export const LOGIN_CODE_TTL_MS = 10 * 60_000;

export function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function newLoginCode(): string {
  return randomBytes(24).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export function checkTokenName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name))
    throw new UsageError(
      `invalid token name ${quote(name)}: expected 1-64 of A-Z, a-z, 0-9, _, . and - (starting with a letter or digit)`,
    );
  return name;
}

/** The token in an `Authorization: Bearer …` header, or null when there is none. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header?.trim() ?? '');
  return match?.[1] ?? null;
}
