/**
 * HTTP to one run's `opencode serve`, on connections of that run only. Every server tries port
 * 4096 first, so runs one after another often share an address: a pooled keep-alive connection
 * (Node's global `fetch` keeps them per origin, process-wide) would reach the previous run's
 * server, gone by now, and fail with ECONNRESET. Each run gets its own agent, destroyed with it.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

export interface HttpTransport {
  /** A whole response, read as text. */
  send(request: HttpRequest): Promise<{ status: number; text: string }>;
  /** A response whose body is read as it arrives (a server-sent event stream). */
  stream(request: HttpRequest): Promise<{ status: number; body: AsyncIterable<Uint8Array> }>;
  /** Ends every connection of the run. */
  close(): void;
}

export function nodeTransport(): HttpTransport {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const open = (request: HttpRequest): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(request.url, {
        method: request.method,
        headers: request.headers,
        agent,
        signal: request.signal,
      });
      req.once('response', resolve);
      req.once('error', reject);
      req.end(request.body);
    });
  return {
    async send(request) {
      const response = await open(request);
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      return { status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') };
    },
    async stream(request) {
      const response = await open(request);
      return { status: response.statusCode ?? 0, body: response };
    },
    close() {
      agent.destroy();
    },
  };
}
