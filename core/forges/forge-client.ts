/** Picks the {@link ForgeApi} implementation for a configured server. */
import type { Server } from '../domain.js';
import { OperationError } from '../errors.js';
import type { ForgeApi } from './forge-api.js';
import { ForgeHttp } from './forge-http.js';
import { giteaApi, giteaAuthHeaders } from './gitea.js';
import { GITHUB_HEADERS, githubApi, githubAuthHeaders } from './github.js';
import { gitlabApi, gitlabAuthHeaders } from './gitlab.js';

export interface ForgeClientOptions {
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Per request. Default 30 000 ms. */
  timeoutMs?: number;
}

/**
 * The API root a server's kind implies when `apiUrl` is not set: `https://api.github.com` for
 * github.com, `URL/api/v3` for GitHub Enterprise Server, `URL/api/v1` for Gitea/Forgejo and
 * `URL/api/v4` for GitLab. Null for `git`, which has no API.
 */
export function defaultApiUrl(server: Server): string | null {
  const web = server.url.replace(/\/+$/, '');
  switch (server.kind) {
    case 'github': {
      const host = hostOf(web);
      return host === 'github.com' || host === 'www.github.com'
        ? 'https://api.github.com'
        : `${web}/api/v3`;
    }
    case 'gitea':
      return `${web}/api/v1`;
    case 'gitlab':
      return `${web}/api/v4`;
    case 'git':
      return null;
  }
}

/**
 * A REST client for `server`, authenticated with `token` (null: anonymous). Uses
 * `server.apiUrl` when set, else {@link defaultApiUrl}.
 * @throws OperationError for a `git` server, which has no API.
 */
export function forgeApiFor(
  server: Server,
  token: string | null,
  options: ForgeClientOptions = {},
): ForgeApi {
  const baseUrl = server.apiUrl ?? defaultApiUrl(server);
  if (server.kind === 'git' || baseUrl === null) {
    throw new OperationError(
      `server ${server.name} is a plain git server (kind git): it has no issue or pull-request API`,
    );
  }
  const common = {
    serverName: server.name,
    kind: server.kind,
    baseUrl,
    token,
    tokenEnv: server.tokenEnv,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  };
  switch (server.kind) {
    case 'github':
      return githubApi(
        new ForgeHttp({
          ...common,
          authHeaders: githubAuthHeaders(token),
          headers: GITHUB_HEADERS,
        }),
      );
    case 'gitea':
      return giteaApi(new ForgeHttp({ ...common, authHeaders: giteaAuthHeaders(token) }));
    case 'gitlab':
      return gitlabApi(
        new ForgeHttp({ ...common, authHeaders: gitlabAuthHeaders(token) }),
        server.url,
      );
  }
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}
