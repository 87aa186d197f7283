/** What every route module is given: the app, and what it works on. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { HomeContext } from '../../core/home-context.js';
import type { ApiToken } from '../../core/store/store-interface.js';
import type { EventFeed } from './event-feed.js';

export interface ApiEnv {
  Variables: { token: ApiToken };
}

export type ApiApp = OpenAPIHono<ApiEnv>;

export interface ApiDeps {
  ctx: HomeContext;
  /** Only a daemon runs tasks: start one if none runs (a no-op inside the daemon). */
  ensureDaemon: () => Promise<{ pid: number; started: boolean }>;
  /** Tells streams that events may have been written. */
  feed: EventFeed;
  /** Where internal errors are reported (the daemon log, or stderr of `kugetsu serve`). */
  log: (line: string) => void;
}
