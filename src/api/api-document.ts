/** The OpenAPI document as the server would serve it, built over a throwaway home (for docs). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHome } from '../../core/home-context.js';
import type { ApiDocument } from './api-docs.js';
import { createApiApp, documentConfig } from './app.js';
import { EventFeed } from './event-feed.js';

export async function apiDocument(): Promise<ApiDocument> {
  const dir = mkdtempSync(join(tmpdir(), 'kgt-api-doc-'));
  const ctx = await openHome({ KUGETSU_HOME: dir }, { create: true });
  try {
    const app = createApiApp(
      {
        ctx,
        feed: new EventFeed(ctx.store.events),
        ensureDaemon: () => Promise.resolve({ pid: 0, started: false }),
        log: () => undefined,
      },
      { corsOrigin: null, rateLimitPerMinute: 1 },
    );
    return app.getOpenAPI31Document(documentConfig()) as ApiDocument;
  } finally {
    ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
