/** The forge side of a home: merging a session's pull request, and intake's watched repos. */
import { createRoute, z } from '@hono/zod-openapi';
import { mergeSession } from '../../../core/operations/merge.js';
import { addIntake, pollIntake, removeIntake } from '../../../core/operations/intake.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { READ_PROBLEMS, WRITE_PROBLEMS, jsonBody, jsonOk } from '../route-kit.js';
import { IntakeAddBody, RefBody, RepoBody, TaskSchema } from '../schemas.js';

const IntakeRepoSchema = z
  .object({
    serverName: z.string(),
    repoPath: z.string(),
    label: z.string(),
    mention: z.string(),
    createdAt: z.number().int(),
  })
  .openapi('IntakeRepo');

export function forgeRoutes(app: ApiApp, { ctx }: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/sessions/merge',
      tags: ['sessions'],
      summary:
        "Merge a session's pull request through its forge (`merge REF -y --json`); a refusal is a 409 with the forge's reason",
      request: { body: jsonBody(RefBody) },
      responses: {
        200: jsonOk(
          z.object({
            issueRef: z.string(),
            pullRequest: z.object({
              number: z.number().int(),
              url: z.string(),
              state: z.enum(['open', 'closed', 'merged']),
            }),
            already: z.boolean().openapi({ description: 'The forge had it merged already' }),
          }),
          'Merged, or asked to be',
        ),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => c.json(await mergeSession(ctx, c.req.valid('json').ref), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/intake',
      tags: ['intake'],
      summary: 'Watched repositories (`intake list --json`)',
      responses: {
        200: jsonOk(z.object({ repos: z.array(IntakeRepoSchema) }), 'Watched repositories'),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => c.json({ repos: await ctx.store.intake.list() }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/intake/add',
      tags: ['intake'],
      summary:
        'Watch a repository: its open issues with `label` are queued, comments with `mention` continue their session (`intake add --json`)',
      request: { body: jsonBody(IntakeAddBody) },
      responses: {
        200: jsonOk(z.object({ repo: IntakeRepoSchema }), 'Watched'),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      const { repo, label, mention } = c.req.valid('json');
      return c.json({ repo: await addIntake(ctx, repo, { label, mention }) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/intake/remove',
      tags: ['intake'],
      summary: 'Stop watching a repository (`intake remove --json`)',
      request: { body: jsonBody(RepoBody) },
      responses: {
        200: jsonOk(z.object({ removed: z.string() }), 'No longer watched'),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      const { repo } = c.req.valid('json');
      await removeIntake(ctx, repo);
      return c.json({ removed: repo }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/intake/poll',
      tags: ['intake'],
      summary:
        'Poll every watched repository once (`intake poll --json`); a forge that fails is reported per repository',
      responses: {
        200: jsonOk(
          z.object({
            polls: z.array(
              z.object({
                repo: z.string(),
                queued: z.array(TaskSchema),
                error: z.string().nullable(),
              }),
            ),
          }),
          'One poll per watched repository',
        ),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => c.json({ polls: await pollIntake(ctx) }, 200),
  );
}
