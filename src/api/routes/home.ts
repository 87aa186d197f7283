/** The home at large: status, doctor, servers (read-only), approvals, runs and usage. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  alreadyAnswered,
  answerApproval,
  type ApprovalVerdict,
} from '../../../core/operations/approvals.js';
import { getServer } from '../../../core/operations/servers.js';
import { statusWithTelegram, telegramChecks } from '../../../bot/health/telegram-status.js';
import { doctor } from '../../../core/operations/setup.js';
import { usageByDay } from '../../../core/usage-by-day.js';
import { OperationError } from '../../../core/errors.js';
import { statusDocument } from '../../json-documents.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { READ_PROBLEMS, WRITE_PROBLEMS, jsonBody, jsonOk } from '../route-kit.js';
import {
  AllQuery,
  ApprovalIdParam,
  ApprovalSchema,
  ApproveBody,
  DaysQuery,
  DenyBody,
  LimitQuery,
  RunSchema,
  ServerSchema,
  UsageSchema,
} from '../schemas.js';

const DAY_MS = 86_400_000;
/** Runs looked at for usage: finished tasks are deleted after QUEUE_CLEANUP_AGE_DAYS anyway. */
const USAGE_RUNS = 100_000;

export function homeRoutes(app: ApiApp, { ctx }: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/status',
      tags: ['home'],
      summary: 'One status word (`ok` or what is missing), and the bot’s health (`status --json`)',
      responses: {
        200: jsonOk(
          z.object({ status: z.string(), telegram: z.object({ health: z.string() }).optional() }),
          'Status',
        ),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => c.json(statusDocument(await statusWithTelegram(ctx.env)), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/doctor',
      tags: ['home'],
      summary: 'Checks of the set-up, without fixing anything (`doctor --json`)',
      responses: {
        200: jsonOk(
          z.object({
            ok: z.boolean(),
            checks: z.array(
              z.object({
                name: z.string(),
                status: z.enum(['ok', 'warn', 'fail']),
                detail: z.string(),
                fixed: z.boolean().optional(),
              }),
            ),
          }),
          'Every check; `ok` unless one failed',
        ),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const checks = await doctor(ctx.env, false, undefined, telegramChecks);
      return c.json({ ok: checks.every((check) => check.status !== 'fail'), checks }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/servers',
      tags: ['home'],
      summary: 'Forge servers (`server list --json`); changed from the CLI only',
      responses: {
        200: jsonOk(z.object({ servers: z.array(ServerSchema) }), 'Servers'),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => c.json({ servers: await ctx.store.servers.list() }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/servers/{name}',
      tags: ['home'],
      summary: 'One server (`server get NAME --json`)',
      request: {
        params: z.object({
          name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a server name'),
        }),
      },
      responses: {
        200: jsonOk(z.object({ server: ServerSchema }), 'The server'),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => c.json({ server: await getServer(ctx, c.req.valid('param').name) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/approvals',
      tags: ['approvals'],
      summary: 'Open approvals, oldest first; with `all`, answered ones too (`approvals --json`)',
      request: { query: AllQuery },
      responses: {
        200: jsonOk(z.object({ approvals: z.array(ApprovalSchema) }), 'Approvals'),
        ...READ_PROBLEMS,
      },
    }),
    async (c) =>
      c.json(
        { approvals: await ctx.store.approvals.list({ all: c.req.valid('query').all === true }) },
        200,
      ),
  );

  const answerRoute = (
    name: 'approve' | 'deny',
    summary: string,
    body: typeof ApproveBody | typeof DenyBody,
    verdict: (b: z.infer<typeof ApproveBody> & z.infer<typeof DenyBody>) => ApprovalVerdict,
  ) =>
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/approvals/{id}/${name}`,
        tags: ['approvals'],
        summary,
        request: { params: ApprovalIdParam, body: jsonBody(body) },
        responses: {
          200: jsonOk(z.object({ approval: ApprovalSchema }), 'Resolved by this answer'),
          ...WRITE_PROBLEMS,
        },
      }),
      async (c) => {
        const id = Number(c.req.valid('param').id);
        const { approval, won } = await answerApproval(ctx, id, verdict(c.req.valid('json')), {
          channel: 'api',
          who: c.get('token').name,
        });
        if (!won) throw new OperationError(alreadyAnswered(approval));
        return c.json({ approval }, 200);
      },
    );
  answerRoute(
    'approve',
    'Allow a permission (`scope`: once or for the rest of the task), answer a question (`answer`), or give a stalled agent time (`approve ID --json`)',
    ApproveBody,
    (b) =>
      b.answer !== undefined
        ? { kind: 'answer', text: b.answer }
        : { kind: 'allow', scope: b.scope ?? 'once' },
  );
  answerRoute(
    'deny',
    'Refuse a permission or a question, or stop a stalled agent (`deny ID --json`)',
    DenyBody,
    (b) => {
      const message = b.message?.trim();
      return { kind: 'deny', message: message === undefined || message === '' ? null : message };
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/runs',
      tags: ['usage'],
      summary: 'The newest attempts of any task, with their usage (`logs --json`)',
      request: { query: LimitQuery },
      responses: {
        200: jsonOk(
          z.object({ runs: z.array(RunSchema.extend({ issueRef: z.string().nullable() })) }),
          'Runs, newest first',
        ),
        ...READ_PROBLEMS,
      },
    }),
    async (c) =>
      c.json({ runs: await ctx.store.runs.latest(c.req.valid('query').limit ?? 20) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/usage',
      tags: ['usage'],
      summary: 'Tokens and cost per UTC day and agent over the last `days` (default 30)',
      request: { query: DaysQuery },
      responses: {
        200: jsonOk(
          z.object({
            days: z.array(
              z.object({
                day: z.string(),
                agent: z.string(),
                runs: z.number().int(),
                usage: UsageSchema,
              }),
            ),
            total: UsageSchema,
          }),
          'Usage by day and agent, oldest day first',
        ),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const days = c.req.valid('query').days ?? 30;
      const agents = new Map((await ctx.store.tasks.list({})).map((t) => [t.id, t.agent]));
      const runs = await ctx.store.runs.latest(USAGE_RUNS);
      const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
      return c.json(
        usageByDay(runs, (id) => agents.get(id), today - (days - 1) * DAY_MS),
        200,
      );
    },
  );
}
