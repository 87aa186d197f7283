/**
 * Credentials for git over HTTP(S) without putting the token where it could be seen: not in the
 * remote URL (git stores it in the repository's config and prints it in errors), not in argv
 * (visible to every local user in `ps`). Git ≥ 2.31 reads extra configuration from
 * GIT_CONFIG_COUNT/KEY_n/VALUE_n, so the token travels as an `http.extraHeader` in the git
 * process's environment only.
 */
import type { Server } from '../domain.js';

/** The user name each forge expects beside a token in HTTP Basic auth. */
function basicUser(server: Server): string {
  switch (server.kind) {
    case 'github':
      return 'x-access-token';
    case 'gitlab':
      return 'oauth2';
    default:
      // Gitea and Forgejo accept a token as the password of any user name.
      return 'kugetsu';
  }
}

/** Variables that authenticate git's HTTP requests to `server`; empty where none apply. */
export function gitAuthEnv(
  server: Server,
  token: string | null,
  inherited: Record<string, string | undefined> = {},
): Record<string, string> {
  if (token === null || !/^https?:/.test(server.url)) return {};
  // Entries the caller's environment already declares keep their indexes; ours go after them.
  const index = Number(inherited['GIT_CONFIG_COUNT'] ?? 0) || 0;
  const credentials = Buffer.from(`${basicUser(server)}:${token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: String(index + 1),
    [`GIT_CONFIG_KEY_${index}`]: 'http.extraHeader',
    [`GIT_CONFIG_VALUE_${index}`]: `Authorization: Basic ${credentials}`,
  };
}
