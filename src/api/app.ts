/**
 * The HTTP API (docs/api.md): every CLI operation under /api/v1, built on the same core
 * operations and answering the same JSON documents, described by an OpenAPI 3.1 document.
 * This module assembles it: limits, auth, scrubbing and errors around the route modules.
 * `/` and /dashboard/* serve the web dashboard's static files.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { quote } from '../../core/errors.js';
import { MAX_MESSAGE_BYTES } from '../../core/operations/tasks.js';
import type { ApiApp, ApiDeps, ApiEnv } from './api-types.js';
import { requireToken } from './auth.js';
import { problem, problemOf } from './problem.js';
import { RateLimiter } from './rate-limit.js';
import { fail, sendError, sendProblem } from './route-kit.js';
import { eventRoutes } from './routes/events.js';
import { dashboardRoutes } from './dashboard.js';
import { forgeRoutes } from './routes/forge.js';
import { homeRoutes } from './routes/home.js';
import { loginRoutes } from './routes/login.js';
import { sessionRoutes } from './routes/sessions.js';
import { taskRoutes } from './routes/tasks.js';
import { transcriptRoutes } from './routes/transcript.js';

export const OPENAPI_PATH = '/api/v1/openapi.json';
const LOGIN_PATH = '/api/v1/auth/login';
/** Room for the largest message core accepts, in JSON, and nothing like a flood. */
export const MAX_BODY_BYTES = MAX_MESSAGE_BYTES + 16 * 1024;

export interface ApiOptions {
  /** KUGETSU_HTTP_CORS_ORIGIN: the one origin allowed to call from a browser; null: none. */
  corsOrigin: string | null;
  /** KUGETSU_HTTP_RATE_LIMIT: requests per minute per token. */
  rateLimitPerMinute: number;
}

const TARGETS: Record<string, string> = {
  json: 'body',
  param: 'path',
  query: 'query',
  header: 'header',
};

export function createApiApp(deps: ApiDeps, options: ApiOptions): ApiApp {
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const issue = result.error.issues[0];
      const field = [TARGETS[result.target] ?? result.target, ...(issue?.path ?? [])].join('.');
      return sendProblem(
        c,
        problem(400, 'invalid_request', `${field}: ${issue?.message ?? 'invalid'}`, field),
      );
    },
  });
  const limiter = new RateLimiter(options.rateLimitPerMinute);

  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status === 400)
      return fail(c, 400, 'invalid_json', 'the body is not valid JSON');
    if (err instanceof HTTPException && err.status === 413) return tooLarge(c);
    const p = problemOf(err);
    if (p.status === 500)
      deps.log(`api: ${c.req.method} ${c.req.path} failed: ${err.stack ?? err.message}`);
    return sendError(c, err);
  });
  app.notFound((c) =>
    fail(c, 404, 'not_found', `no such endpoint: ${c.req.method} ${quote(c.req.path)}`),
  );

  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
  });
  if (options.corsOrigin !== null)
    app.use(
      '/api/*',
      cors({
        origin: options.corsOrigin,
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
        maxAge: 600,
      }),
    );
  app.use('/api/*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => tooLarge(c) }));
  app.use(
    '/api/v1/*',
    requireToken(deps.ctx.store.apiTokens, limiter, new Set([OPENAPI_PATH, LOGIN_PATH])),
  );
  app.use('/api/*', scrubJson(deps));

  taskRoutes(app, deps);
  transcriptRoutes(app, deps);
  sessionRoutes(app, deps);
  forgeRoutes(app, deps);
  eventRoutes(app, deps);
  homeRoutes(app, deps);
  loginRoutes(app, deps, limiter);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from `kugetsu api token create NAME [--read-only]`',
  });
  app.doc31(OPENAPI_PATH, documentConfig());
  dashboardRoutes(app);
  return app;

  function tooLarge(c: Context): Response {
    // The rest of the body is never read, so the connection cannot carry another request: a
    // client that kept it alive would send its next request into a socket the server drops.
    c.header('Connection', 'close');
    return fail(c, 413, 'payload_too_large', `the body is over ${MAX_BODY_BYTES} bytes`);
  }
}

export function documentConfig() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'kugetsu HTTP API',
      // The API's version (its path's /v1), not kugetsu's: it changes only when clients must.
      version: '1',
      description:
        'Every operation of the kugetsu CLI, answering its `--json` documents. Errors are `application/problem+json` with a stable `code`.',
    },
    security: [{ bearer: [] }],
  };
}

/**
 * Every JSON answer passes the scrubber of the secrets known now, as the CLI's output does; and
 * a change made here is told to the event streams at once.
 */
function scrubJson({ ctx, feed }: ApiDeps): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method === 'POST') feed.poke();
    if (!(c.res.headers.get('content-type') ?? '').includes('json')) return;
    const text = await c.res.text();
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    c.res = new Response(ctx.scrubber().scrub(text), { status: c.res.status, headers });
  };
}
