/** What the Server-Sent Events streams share. */
import { z } from '@hono/zod-openapi';
import type { SSEStreamingApi } from 'hono/streaming';

/** A comment line this often keeps proxies and browsers from closing an idle stream. */
export const KEEPALIVE_MS = 15_000;

export const SSE_RESPONSE = {
  description: 'A `text/event-stream`',
  content: { 'text/event-stream': { schema: z.string() } },
};

export function lastEventIdHeader(pattern: RegExp, what: string) {
  return z.object({
    'last-event-id': z
      .string()
      .regex(pattern, `expected ${what}`)
      .optional()
      .openapi({ description: `Resume after this id (${what}), as EventSource sends it` }),
  });
}

export function keepAlive(stream: SSEStreamingApi): Promise<unknown> {
  return stream.write(': keep-alive\n\n');
}
