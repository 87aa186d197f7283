/**
 * The web dashboard's static files (docs/dashboard.md), at `/` beside the API. They are plain
 * ES modules copied into dist/src/dashboard by `npm run build`; no token is ever put in them, the
 * page asks for one. A strict Content-Security-Policy allows only these files to run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiApp } from './api-types.js';

/** Scripts and styles from this server only: no inline script, no eval, no other origin. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** src/dashboard beside src/api, and dist/src/dashboard beside dist/src/api once built. */
const DIR = fileURLToPath(new URL('../dashboard/', import.meta.url));

interface StaticFile {
  body: string;
  type: string;
}

/** Every file of the dashboard, read once: a request can only name one of these. */
function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type !== undefined) files.set(name, { body: readFileSync(`${dir}/${name}`, 'utf8'), type });
  }
  return files;
}

export function dashboardRoutes(app: ApiApp, dir = DIR): void {
  const files = loadFiles(dir);
  const send = (file: StaticFile | undefined) =>
    file === undefined
      ? new Response('not found', { status: 404, headers: { 'Content-Type': 'text/plain' } })
      : new Response(file.body, {
          headers: {
            'Content-Type': file.type,
            'Content-Security-Policy': DASHBOARD_CSP,
            'Referrer-Policy': 'no-referrer',
            'X-Frame-Options': 'DENY',
          },
        });
  app.get('/', () => send(files.get('index.html')));
  app.get('/dashboard/:file', (c) => send(files.get(c.req.param('file'))));
}
