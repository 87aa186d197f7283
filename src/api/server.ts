/** Serves the API on a real port: for the daemon (KUGETSU_HTTP_LISTEN) and `kugetsu serve`. */
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HomeContext } from '../../core/home-context.js';
import { createApiApp } from './app.js';
import { EventFeed } from './event-feed.js';

export interface ApiServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startApiServer(
  ctx: HomeContext,
  listen: { host: string; port: number },
  options: {
    ensureDaemon: () => Promise<{ pid: number; started: boolean }>;
    log: (line: string) => void;
  },
): Promise<ApiServer> {
  const feed = new EventFeed(ctx.store.events);
  const app = createApiApp(
    { ctx, feed, ensureDaemon: options.ensureDaemon, log: options.log },
    {
      corsOrigin: ctx.config.httpCorsOrigin ?? null,
      rateLimitPerMinute: ctx.config.httpRateLimit,
    },
  );
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  // Slow-loris bodies and idle keep-alive sockets are cut; streams are long-lived by design.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    host: listen.host,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        feed.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
