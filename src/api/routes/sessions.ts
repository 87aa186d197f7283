/** Sessions: list, destroy, prune (with a dry run). */
import { createRoute, z } from '@hono/zod-openapi';
import { listSessions } from '../../../core/operations/session-list.js';
import { destroySession, pruneSessions } from '../../../core/operations/sessions.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { READ_PROBLEMS, WRITE_PROBLEMS, jsonBody, jsonOk } from '../route-kit.js';
import {
  AllQuery,
  DestroyBody,
  PruneBody,
  SessionSchema,
  TaskSchema,
  UsageSchema,
} from '../schemas.js';

export function sessionRoutes(app: ApiApp, { ctx, ensureDaemon }: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/sessions',
      tags: ['sessions'],
      summary: 'Sessions in use or left; with `all`, idle ones too (`list --json`)',
      request: { query: AllQuery },
      responses: {
        200: jsonOk(
          z.object({
            sessions: z.array(
              SessionSchema.extend({
                task: TaskSchema.pick({ id: true, state: true, result: true, lastError: true })
                  .partial()
                  .nullable()
                  .openapi({ description: 'The running or newest task of the session' }),
                usage: UsageSchema.nullable(),
                worktreeExists: z.boolean(),
              }),
            ),
          }),
          'Sessions, newest first',
        ),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const sessions = await listSessions(ctx, c.req.valid('query').all === true);
      return c.json({ sessions }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/sessions/destroy',
      tags: ['sessions'],
      summary:
        "Remove a session's worktree, branch and record (`destroy REF`); `force` stops a running agent and drops uncommitted work",
      request: { body: jsonBody(DestroyBody) },
      responses: {
        200: jsonOk(z.object({ destroyed: z.string() }), 'Destroyed'),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      const { ref, force } = c.req.valid('json');
      const session = await destroySession(ctx, ref, force === true, ensureDaemon);
      return c.json({ destroyed: session.issueRef }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/sessions/prune',
      tags: ['sessions'],
      summary:
        'Remove idle sessions whose work is safe elsewhere (`prune --json`); `dryRun` only reports',
      request: { body: jsonBody(PruneBody) },
      responses: {
        200: jsonOk(
          z.object({
            pruned: z.array(z.string()),
            kept: z.array(z.object({ issueRef: z.string(), reason: z.string() })),
            dryRun: z.boolean(),
          }),
          'What was (or, in a dry run, would be) pruned, and what was kept and why',
        ),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      const { force, dryRun } = c.req.valid('json');
      const report = await pruneSessions(ctx, force === true, { dryRun: dryRun === true });
      return c.json({ ...report, dryRun: dryRun === true }, 200);
    },
  );
}
