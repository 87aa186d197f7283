/** A task's transcript, live: each attempt's new lines as the agent writes them. */
import { createRoute } from '@hono/zod-openapi';
import { isFinished } from '../../../core/domain.js';
import { readFrom } from '../../../core/follow-task.js';
import { getTask } from '../../../core/operations/tasks.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { READ_PROBLEMS } from '../route-kit.js';
import { TaskIdParam } from '../schemas.js';
import { KEEPALIVE_MS, SSE_RESPONSE, keepAlive, lastEventIdHeader, safeStream } from '../sse.js';

/** Transcripts are files the daemon appends to; this is how often they are looked at. */
const POLL_MS = 100;

/** `ATTEMPT:OFFSET`: where a client that got this message stands. */
export function parsePosition(id: string | undefined): { attempt: number; offset: number } {
  const [attempt = '0', offset = '0'] = id?.split(':') ?? [];
  return { attempt: Number(attempt), offset: Number(offset) };
}

export function transcriptRoutes(app: ApiApp, { ctx, log }: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tasks/{id}/transcript/stream',
      tags: ['tasks'],
      summary:
        "A task's transcript over Server-Sent Events: `event: lines` messages carry `{attempt, lines}` with the id `ATTEMPT:OFFSET`; reconnect with that `Last-Event-ID` to go on from there. `event: end` carries the finished task, and the stream closes.",
      request: {
        params: TaskIdParam,
        headers: lastEventIdHeader(/^[0-9]{1,6}:[0-9]{1,15}$/, 'ATTEMPT:OFFSET'),
      },
      responses: { 200: SSE_RESPONSE, ...READ_PROBLEMS },
    }),
    async (c) => {
      const id = Number(c.req.valid('param').id);
      await getTask(ctx, id);
      const from = parsePosition(c.req.valid('header')['last-event-id']);
      return safeStream(c, log, async (stream) => {
        const offsets = new Map<number, number>([[from.attempt, from.offset]]);
        let quietSince = Date.now();
        while (!stream.aborted) {
          // The task first: once it is seen finished, its transcripts are complete.
          const task = await ctx.store.tasks.get(id);
          const scrubber = ctx.scrubber();
          for (const run of await ctx.store.runs.list(id)) {
            if (run.attempt < from.attempt) continue;
            const offset = offsets.get(run.attempt) ?? 0;
            const chunk = readFrom(run.transcript, offset);
            if (chunk.length === 0) continue;
            offsets.set(run.attempt, offset + chunk.length);
            const lines = chunk.toString('utf8').split('\n').slice(0, -1);
            await stream.writeSSE({
              event: 'lines',
              id: `${run.attempt}:${offset + chunk.length}`,
              data: scrubber.scrub(JSON.stringify({ attempt: run.attempt, lines })),
            });
            quietSince = Date.now();
          }
          if (task === null || isFinished(task.state)) {
            await stream.writeSSE({ event: 'end', data: scrubber.scrub(JSON.stringify({ task })) });
            return;
          }
          if (Date.now() - quietSince >= KEEPALIVE_MS) {
            await keepAlive(stream);
            quietSince = Date.now();
          }
          await stream.sleep(POLL_MS);
        }
      });
    },
  );
}
