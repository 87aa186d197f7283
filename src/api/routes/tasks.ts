/** Tasks and the queue: list, get, delegate, start, continue, resume, stop, cancel, retry, clear. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  cancelTask,
  continueTask,
  delegate,
  getTask,
  resumeTask,
  retryTask,
  startTask,
  stopSession,
  type QueuedTask,
} from '../../../core/operations/tasks.js';
import { withPlaceInLine } from '../../../core/scheduler/place-in-line.js';
import { resolveTarget } from '../../../core/targets.js';
import {
  delegatedDocument,
  queueListDocument,
  queueStatsDocument,
  taskLogsDocument,
  waitingApprovals,
} from '../../json-documents.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { READ_PROBLEMS, WRITE_PROBLEMS, jsonBody, jsonOk } from '../route-kit.js';
import {
  ClearBody,
  DelegateBody,
  RefBody,
  ResumeBody,
  RunSchema,
  SessionSchema,
  StartBody,
  TaskIdParam,
  TaskListQuery,
  TaskSchema,
} from '../schemas.js';

const QueuedSchema = z
  .object({
    task: TaskSchema,
    note: z.string().nullable(),
    daemon: z.object({ pid: z.number().int(), started: z.boolean() }),
  })
  .openapi('QueuedTask');
const TaskOnly = z.object({ task: TaskSchema });

export function taskRoutes(app: ApiApp, { ctx, ensureDaemon }: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tasks',
      tags: ['tasks'],
      summary: 'List tasks (`queue list --json`)',
      request: { query: TaskListQuery },
      responses: {
        200: jsonOk(
          z.object({
            tasks: z.array(TaskSchema.extend({ waitingForApproval: z.number().int().nullable() })),
          }),
          'Tasks, oldest first, each with the open approval it waits for',
        ),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const states = q.state?.split(',') ?? (q.all === true ? undefined : ['pending', 'running']);
      const issueRef = q.ref === undefined ? undefined : (await resolveTarget(ctx, q.ref)).issueRef;
      const tasks = await ctx.store.tasks.list({
        ...(states === undefined ? {} : { states }),
        ...(issueRef === undefined ? {} : { issueRef }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
      });
      const waiting = waitingApprovals(await ctx.store.approvals.list());
      // A place in line is only known from a listing that holds every pending task.
      const whole = issueRef === undefined && q.limit === undefined;
      return c.json(queueListDocument(whole ? withPlaceInLine(tasks) : tasks, waiting), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tasks/{id}',
      tags: ['tasks'],
      summary: 'A task with every attempt and its transcript (`logs ID --json`)',
      request: { params: TaskIdParam },
      responses: {
        200: jsonOk(
          z.object({
            task: TaskSchema,
            runs: z.array(RunSchema.extend({ lines: z.array(z.string()) })),
          }),
          'The task and its attempts',
        ),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const id = Number(c.req.valid('param').id);
      const task = await getTask(ctx, id);
      const runs = await ctx.store.runs.list(id);
      return c.json(taskLogsDocument(task, runs, ctx.scrubber()), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tasks',
      tags: ['tasks'],
      summary:
        'Delegate: a message naming an issue becomes its task, any other goes to the PM agent',
      request: { body: jsonBody(DelegateBody) },
      responses: {
        201: jsonOk(
          z.object({
            taskId: z.number().int(),
            route: z.enum(['issue', 'pm']),
            task: TaskSchema,
            note: z.string().nullable(),
          }),
          'Queued (`delegate --json`)',
        ),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      const { message, agent, model } = c.req.valid('json');
      const result = await delegate(ctx, message, { agent, model });
      await ensureDaemon();
      return c.json(delegatedDocument(result), 201);
    },
  );

  const queueRoute = (
    name: 'start' | 'continue' | 'resume',
    summary: string,
    queue: (body: z.infer<typeof ResumeBody>) => Promise<QueuedTask>,
  ) =>
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/tasks/${name}`,
        tags: ['tasks'],
        summary,
        request: { body: jsonBody(name === 'resume' ? ResumeBody : StartBody) },
        responses: {
          201: jsonOk(QueuedSchema, `Queued (\`${name} --detach --json\`)`),
          ...WRITE_PROBLEMS,
        },
      }),
      async (c) => {
        const queued = await queue(c.req.valid('json'));
        const daemon = await ensureDaemon();
        return c.json({ ...queued, daemon }, 201);
      },
    );
  const options = (b: z.infer<typeof ResumeBody>) => ({ agent: b.agent, model: b.model });
  queueRoute('start', 'Start work on an issue (continues or resumes a session that exists)', (b) =>
    startTask(ctx, b.ref, b.message ?? '', options(b)),
  );
  queueRoute('continue', 'Continue a session with a new message', (b) =>
    continueTask(ctx, b.ref, b.message ?? '', options(b)),
  );
  queueRoute('resume', 'Resume an interrupted session (with its stored message by default)', (b) =>
    resumeTask(ctx, b.ref, b.message, options(b)),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tasks/stop',
      tags: ['tasks'],
      summary: "Stop a session's running task; it ends cancelled and the session is left",
      request: { body: jsonBody(RefBody) },
      responses: {
        200: jsonOk(
          z.object({ task: TaskSchema, session: SessionSchema.nullable() }),
          'Stop requested (`stop --detach --json`): the task is still running until its agent ends',
        ),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      const task = await stopSession(ctx, c.req.valid('json').ref);
      await ensureDaemon();
      const session = task.issueRef === null ? null : await ctx.store.sessions.get(task.issueRef);
      return c.json({ task, session }, 200);
    },
  );

  for (const [name, act] of [
    ['cancel', cancelTask],
    ['retry', retryTask],
  ] as const)
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/tasks/{id}/${name}`,
        tags: ['tasks'],
        summary:
          name === 'cancel'
            ? 'Cancel a task (`queue cancel`): a pending one at once, a running one is stopped'
            : 'Queue a failed, cancelled or waiting task again (`queue retry`)',
        request: { params: TaskIdParam },
        responses: { 200: jsonOk(TaskOnly, 'The task'), ...WRITE_PROBLEMS },
      }),
      async (c) => {
        const task = await act(ctx, Number(c.req.valid('param').id));
        await ensureDaemon();
        return c.json({ task }, 200);
      },
    );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/queue/stats',
      tags: ['tasks'],
      summary: 'Tasks by state, slots held against the cap, the daemon (`queue stats --json`)',
      responses: {
        200: jsonOk(
          z.object({
            pending: z.number().int(),
            running: z.number().int(),
            completed: z.number().int(),
            needsInput: z.number().int(),
            error: z.number().int(),
            cancelled: z.number().int(),
            slotsHeld: z.number().int(),
            maxConcurrentAgents: z.number().int(),
            daemon: z.number().int().nullable().openapi({ description: "The daemon's pid" }),
          }),
          'Queue statistics',
        ),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const stats = await ctx.store.tasks.stats();
      const owner = await ctx.store.locks.daemonOwner();
      return c.json(
        queueStatsDocument(stats, ctx.config.maxConcurrentAgents, owner?.pid ?? null),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/queue/clear',
      tags: ['tasks'],
      summary: 'Remove finished tasks; with `all`, cancel pending ones first (`queue clear`)',
      request: { body: jsonBody(ClearBody) },
      responses: {
        200: jsonOk(z.object({ removed: z.number().int(), cancelled: z.number().int() }), 'Done'),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      const cancelled =
        c.req.valid('json').all === true ? await ctx.store.tasks.cancelAllPending() : 0;
      const removed = await ctx.store.tasks.deleteFinished(Date.now() + 1);
      return c.json({ removed, cancelled }, 200);
    },
  );
}
