/** `kugetsu doctor`'s look at one server: reachable, token valid, scopes sufficient. */
import type { Server } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { ForgeIdentity } from './forge-api.js';
import { forgeApiFor } from './forge-client.js';

export interface ServerCheck {
  ok: boolean | 'warn';
  detail: string;
}

/** The scopes each kind needs to push, open pull requests and comment, where tokens show them. */
const NEEDED: Partial<Record<Server['kind'], { any: string[]; hint: string }>> = {
  github: { any: ['repo', 'public_repo'], hint: 'a classic token needs the repo scope' },
  gitlab: { any: ['api'], hint: 'the token needs the api scope' },
};

/** Judges a token's identity and scopes. Pure. */
export function judgeIdentity(server: Server, identity: ForgeIdentity): ServerCheck {
  const who = `token of ${identity.login}`;
  const needed = NEEDED[server.kind];
  if (identity.scopes === null || needed === undefined) {
    return { ok: true, detail: `${who} (scopes not reported; checked on first use)` };
  }
  if (!identity.scopes.some((s) => needed.any.includes(s))) {
    return {
      ok: false,
      detail: `${who} lacks the scopes to push and open pull requests (has: ${identity.scopes.join(', ') || 'none'}): ${needed.hint}`,
    };
  }
  const publicOnly = server.kind === 'github' && !identity.scopes.includes('repo');
  return publicOnly
    ? { ok: 'warn', detail: `${who}, scope public_repo: private repositories will fail` }
    : { ok: true, detail: `${who}, scopes ${identity.scopes.join(', ')}` };
}

export async function checkServer(server: Server, token: string | null): Promise<ServerCheck> {
  if (server.kind === 'git') return { ok: true, detail: `plain git at ${server.url}` };
  if (server.tokenEnv === null) {
    return {
      ok: false,
      detail: `no token variable: \`kugetsu server remove ${server.name}\` and add it again with --token-env VAR`,
    };
  }
  if (token === null) {
    return {
      ok: false,
      detail: `${server.tokenEnv} is not set: put it in config.env or the daemon's environment`,
    };
  }
  try {
    return judgeIdentity(server, await forgeApiFor(server, token, { timeoutMs: 10_000 }).whoami());
  } catch (err) {
    return { ok: false, detail: errorMessage(err) };
  }
}
