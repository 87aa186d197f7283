/**
 * Who may call: a bearer token the store knows (by its hash, compared in constant time),
 * allowed a read or a change by its kind, within its rate. Everything under /api/v1 but the
 * OpenAPI document and the login exchange goes through here.
 */
import type { MiddlewareHandler } from 'hono';
import { bearerToken, hashSecret, sameHash } from '../../core/api-tokens.js';
import type { StoreApi } from '../../core/store/store-interface.js';
import type { ApiEnv } from './api-types.js';
import type { RateLimiter } from './rate-limit.js';
import { fail } from './route-kit.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function requireToken(
  tokens: StoreApi['apiTokens'],
  limiter: RateLimiter,
  /** Answered without a token: the OpenAPI document, the login exchange. */
  publicPaths: ReadonlySet<string>,
): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (publicPaths.has(c.req.path)) return next();
    const presented = bearerToken(c.req.header('authorization'));
    if (presented === null)
      return fail(c, 401, 'unauthorized', 'no bearer token: send `Authorization: Bearer TOKEN`', {
        'WWW-Authenticate': 'Bearer realm="kugetsu"',
      });
    const hash = hashSecret(presented);
    const token = await tokens.findByHash(hash);
    if (token === null || !sameHash(token.hash, hash))
      return fail(c, 401, 'unauthorized', 'unknown or revoked token', {
        'WWW-Authenticate': 'Bearer realm="kugetsu", error="invalid_token"',
      });
    const rate = limiter.take(`token:${token.name}`);
    if (!rate.ok)
      return fail(c, 429, 'rate_limited', `rate limit of token ${token.name} reached`, {
        'Retry-After': String(rate.retryAfterSeconds),
      });
    if (token.readOnly && !READS.has(c.req.method))
      return fail(
        c,
        403,
        'read_only',
        `token ${token.name} is read-only: it cannot change anything`,
      );
    c.set('token', { name: token.name, readOnly: token.readOnly, createdAt: token.createdAt });
    await next();
  };
}
