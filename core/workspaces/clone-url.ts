import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Server } from '../domain.js';

/**
 * The clone URL of `owner/repo` on a server: `URL/owner/repo.git` (DESIGN.md §3). For a
 * `file://` server that path, or the plain `URL/owner/repo` directory when only a
 * non-bare checkout exists there.
 */
export function cloneUrl(server: Server, repoPath: string): string {
  if (server.url.startsWith('file://')) {
    const root = fileURLToPath(server.url);
    const bare = join(root, `${repoPath}.git`);
    const plain = join(root, repoPath);
    return existsSync(bare) || !existsSync(plain) ? bare : plain;
  }
  return `${server.url.replace(/\/+$/, '')}/${repoPath}.git`;
}
