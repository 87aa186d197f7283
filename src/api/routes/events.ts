/** Events (notifications): list, mark read, and the live stream. */
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { READ_PROBLEMS, WRITE_PROBLEMS, jsonOk } from '../route-kit.js';
import { EventListQuery, EventSchema } from '../schemas.js';
import { KEEPALIVE_MS, SSE_RESPONSE, keepAlive, lastEventIdHeader, safeStream } from '../sse.js';

/** Events sent per read: a client far behind catches up in batches, never in one huge read. */
const BATCH = 500;

export function eventRoutes(app: ApiApp, { ctx, feed, log }: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/events',
      tags: ['events'],
      summary: 'Notifications: unread ones, or with `all` every kept event (`notify list --json`)',
      request: { query: EventListQuery },
      responses: {
        200: jsonOk(z.object({ events: z.array(EventSchema) }), 'Events in id order'),
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const events = await ctx.store.events.list({
        unreadOnly: q.all !== true,
        ...(q.after === undefined ? {} : { afterId: q.after }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
      });
      return c.json({ events }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/events/read',
      tags: ['events'],
      summary: 'Mark every notification read (`notify clear --json`)',
      responses: {
        200: jsonOk(z.object({ cleared: z.number().int() }), 'How many were unread'),
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => c.json({ cleared: await ctx.store.events.markRead() }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/events/stream',
      tags: ['events'],
      summary:
        'Every event as it is written, over Server-Sent Events. Each message is one event (JSON) with its store id as the SSE id; reconnect with `Last-Event-ID` (or `?after=ID`) to get exactly the events after it. Without either, the stream starts at the newest event; the first message (`event: ready`) says where.',
      request: {
        headers: lastEventIdHeader(/^[0-9]{1,15}$/, 'an event id'),
        query: z.object({ after: z.coerce.number().int().min(0).optional() }),
      },
      responses: { 200: SSE_RESPONSE, ...READ_PROBLEMS },
    }),
    (c) => {
      const header = c.req.valid('header')['last-event-id'];
      const after = header === undefined ? c.req.valid('query').after : Number(header);
      return safeStream(c, log, async (stream) => {
        const abort = new AbortController();
        stream.onAbort(() => abort.abort());
        let cursor = after ?? (await ctx.store.events.latestId());
        await stream.writeSSE({
          event: 'ready',
          id: String(cursor),
          data: JSON.stringify({ after: cursor }),
        });
        let quietSince = Date.now();
        while (!stream.aborted) {
          const events = await ctx.store.events.list({
            unreadOnly: false,
            afterId: cursor,
            limit: BATCH,
          });
          const scrubber = ctx.scrubber();
          for (const event of events) {
            await stream.writeSSE({
              id: String(event.id),
              data: scrubber.scrub(JSON.stringify(event)),
            });
            cursor = event.id;
          }
          if (events.length === BATCH) continue;
          if (events.length > 0) quietSince = Date.now();
          else if (Date.now() - quietSince >= KEEPALIVE_MS) {
            await keepAlive(stream);
            quietSince = Date.now();
          }
          await feed.next(cursor, KEEPALIVE_MS, abort.signal);
        }
      });
    },
  );
}
