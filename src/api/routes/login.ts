/**
 * Who is calling, and the login link's exchange: a one-time code from `kugetsu api login-link`
 * becomes a token of its own for the browser that opened the link. No token is needed for the
 * exchange; the code is.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { randomBytes } from 'node:crypto';
import { hashSecret, newToken } from '../../../core/api-tokens.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import type { RateLimiter } from '../rate-limit.js';
import { ProblemError, problem } from '../problem.js';
import { READ_PROBLEMS, WRITE_PROBLEMS, jsonBody, jsonOk } from '../route-kit.js';
import { LoginBody } from '../schemas.js';

export function loginRoutes(app: ApiApp, { ctx }: ApiDeps, limiter: RateLimiter): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/auth/me',
      tags: ['auth'],
      summary:
        'The token this request was made with (never the token itself): its name, whether it is read-only, when it was made',
      responses: {
        200: jsonOk(
          z.object({ name: z.string(), readOnly: z.boolean(), createdAt: z.number().int() }),
          'The calling token',
        ),
        ...READ_PROBLEMS,
      },
    }),
    (c) => {
      const { name, readOnly, createdAt } = c.get('token');
      return c.json({ name, readOnly, createdAt }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/login',
      tags: ['auth'],
      summary:
        'Exchange a login-link code (once, within 10 minutes) for a new token named `browser-…`; no Authorization header',
      security: [],
      request: { body: jsonBody(LoginBody) },
      responses: {
        201: jsonOk(
          z.object({ token: z.string(), name: z.string(), readOnly: z.boolean() }),
          'The new token: keep it, it is shown once',
        ),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      // Codes are 24 random bytes: the limit is against floods, guessing is hopeless anyway.
      const rate = limiter.take('login');
      if (!rate.ok)
        throw new ProblemError(problem(429, 'rate_limited', 'too many login attempts'), {
          'Retry-After': String(rate.retryAfterSeconds),
        });
      const grant = await ctx.store.apiTokens.redeemLoginCode(hashSecret(c.req.valid('json').code));
      if (grant === null)
        throw new ProblemError(problem(401, 'unauthorized', 'login code unknown, used or expired'));
      const token = newToken();
      const name = `browser-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
      await ctx.store.apiTokens.create(
        { name, readOnly: grant.readOnly, createdAt: Date.now() },
        hashSecret(token),
      );
      return c.json({ token, name, readOnly: grant.readOnly }, 201);
    },
  );
}
