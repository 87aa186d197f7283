/**
 * `kugetsu api`: the HTTP API's credentials. `token create` prints the token once (only its
 * hash is kept); `login-link` prints a URL with a one-time code the dashboard exchanges for a
 * token of its own (POST /api/v1/auth/login).
 */
import {
  LOGIN_CODE_TTL_MS,
  checkTokenName,
  hashSecret,
  newLoginCode,
  newToken,
} from '../../../core/api-tokens.js';
import { OperationError, UsageError } from '../../../core/errors.js';
import { JSON_FLAG, expectPositionals, parse, subcommand } from '../args.js';
import { withHome } from '../home.js';
import { ago, table, type Io } from '../io.js';
import { USAGE } from '../usage.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('api', argv, {
    ...JSON_FLAG,
    'read-only': { type: 'boolean' },
    url: { type: 'string' },
  });
  const usage = USAGE['api'] ?? '';
  const area = subcommand('api', positionals[0], ['token', 'login-link'] as const);
  const json = values.json === true;
  const readOnly = values['read-only'] === true;
  if (area === 'login-link') {
    expectPositionals('api login-link', positionals.slice(1), 0, 0, usage);
    return withHome(io, async (ctx, io) => {
      const base = values.url ?? listenUrl(ctx.config.httpListen);
      const code = newLoginCode();
      const expiresAt = Date.now() + LOGIN_CODE_TTL_MS;
      await ctx.store.apiTokens.addLoginCode(hashSecret(code), readOnly, expiresAt);
      // In the fragment: a browser never sends it to a server, so no access log keeps it.
      const url = `${base.replace(/\/+$/, '')}/#login=${code}`;
      if (json) io.json({ url, expiresAt, readOnly });
      else io.out(`${url}\n(works once, for ${LOGIN_CODE_TTL_MS / 60_000} minutes)`);
      return 0;
    });
  }
  const sub = subcommand('api token', positionals[1], ['create', 'list', 'revoke'] as const);
  const args = positionals.slice(2);
  return withHome(io, async (ctx, io) => {
    switch (sub) {
      case 'create': {
        expectPositionals('api token create', args, 1, 1, usage);
        const name = checkTokenName(args[0] ?? '');
        const token = newToken();
        const created = await ctx.store.apiTokens.create(
          { name, readOnly, createdAt: Date.now() },
          hashSecret(token),
        );
        if (json) io.json({ ...created, token });
        else
          io.out(
            `${token}\n(token ${name}${readOnly ? ', read-only' : ''}: shown this once, keep it; send it as \`Authorization: Bearer TOKEN\`)`,
          );
        return 0;
      }
      case 'list': {
        expectPositionals('api token list', args, 0, 0, usage);
        const tokens = await ctx.store.apiTokens.list();
        if (json) io.json({ tokens });
        else
          io.out(
            tokens.length === 0
              ? 'no tokens (`kugetsu api token create NAME`)'
              : table([
                  ['NAME', 'ACCESS', 'CREATED'],
                  ...tokens.map((t) => [
                    t.name,
                    t.readOnly ? 'read-only' : 'full',
                    ago(t.createdAt),
                  ]),
                ]),
          );
        return 0;
      }
      case 'revoke': {
        expectPositionals('api token revoke', args, 1, 1, usage);
        const name = args[0] ?? '';
        if (!(await ctx.store.apiTokens.revoke(name)))
          throw new OperationError(`token ${name} not found`);
        if (json) io.json({ revoked: name });
        else io.out(`revoked token ${name}`);
        return 0;
      }
    }
  });
}

function listenUrl(listen: { host: string; port: number } | undefined): string {
  if (listen === undefined)
    throw new UsageError(
      'api login-link: KUGETSU_HTTP_LISTEN is not set: set it, or pass --url URL (where the dashboard is served)',
    );
  // A server on every interface is reached on this machine by loopback.
  const host = ['0.0.0.0', '::', ''].includes(listen.host) ? '127.0.0.1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}
