/**
 * Part of `npm run build`: the dashboard's static files (src/dashboard) into
 * dist/src/dashboard, beside the compiled server that reads them. They are plain ES modules, so
 * copying is the whole build.
 */
import { cpSync, rmSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../src/dashboard/', import.meta.url));
const to = fileURLToPath(new URL('../dist/src/dashboard/', import.meta.url));
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
