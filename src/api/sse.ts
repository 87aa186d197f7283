/** What the Server-Sent Events streams share. */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { errorMessage } from '../../core/errors.js';
import { problem } from './problem.js';

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

/**
 * A stream whose failure is logged here (scrubbed, like every log line) and told to the client
 * as a problem, never as the error's own message; a client gone away is no failure.
 */
export function safeStream(
  c: Context,
  log: (line: string) => void,
  body: (stream: SSEStreamingApi) => Promise<void>,
): Response {
  return streamSSE(c, async (stream) => {
    try {
      await body(stream);
    } catch (err) {
      if (stream.aborted) return;
      log(`api: stream ${c.req.path} failed: ${errorMessage(err)}`);
      await stream.writeSSE({
        event: 'error',
        data: JSON.stringify(problem(500, 'internal', 'the stream failed: reconnect to resume')),
      });
    }
  });
}
