import type { Server } from '../../../core/domain.js';
import { defaultApiUrl } from '../../../core/forges/forge-client.js';
import { addServer, getServer, removeServer } from '../../../core/operations/servers.js';
import { JSON_FLAG, expectPositionals, parse, subcommand } from '../args.js';
import { withHome } from '../home.js';
import { table, type Io } from '../io.js';
import { USAGE } from '../usage.js';

const SUBCOMMANDS = ['list', 'add', 'remove', 'default', 'get'] as const;

function describe(s: Server): string[] {
  return [
    s.isDefault ? '*' : ' ',
    s.name,
    s.kind,
    s.url,
    s.tokenEnv === null ? '-' : `token from $${s.tokenEnv}`,
  ];
}

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('server', argv, {
    ...JSON_FLAG,
    kind: { type: 'string' },
    'token-env': { type: 'string' },
    'api-url': { type: 'string' },
  });
  const sub = subcommand('server', positionals[0], SUBCOMMANDS, 'list');
  const args = positionals.slice(1);
  const usage = USAGE['server'] ?? '';
  const json = values.json === true;
  return withHome(io, async (ctx, io) => {
    switch (sub) {
      case 'list': {
        expectPositionals('server list', args, 0, 0, usage);
        const servers = await ctx.store.servers.list();
        if (json) io.json({ servers });
        else
          io.out(
            servers.length === 0
              ? 'no servers (`kugetsu server add NAME URL`)'
              : table(servers.map(describe)),
          );
        return 0;
      }
      case 'add': {
        expectPositionals('server add', args, 2, 2, usage);
        const server = await addServer(ctx, {
          name: args[0] ?? '',
          url: args[1] ?? '',
          kind: values.kind,
          tokenEnv: values['token-env'],
          apiUrl: values['api-url'],
        });
        if (json) io.json({ server });
        else
          io.out(
            `added server ${server.name} (${server.kind}); refs look like ${server.host ?? server.name}/OWNER/REPO#N`,
          );
        return 0;
      }
      case 'remove': {
        expectPositionals('server remove', args, 1, 1, usage);
        await removeServer(ctx, args[0] ?? '');
        if (json) io.json({ removed: args[0] });
        else io.out(`removed server ${args[0] ?? ''}`);
        return 0;
      }
      case 'default': {
        expectPositionals('server default', args, 0, 1, usage);
        if (args[0] !== undefined)
          await ctx.store.servers.setDefault((await getServer(ctx, args[0])).name);
        const current = (await ctx.store.servers.list()).find((s) => s.isDefault) ?? null;
        if (json) io.json({ default: current?.name ?? null });
        else io.out(current === null ? 'no default server' : `default server: ${current.name}`);
        return 0;
      }
      case 'get': {
        expectPositionals('server get', args, 1, 1, usage);
        const server = await getServer(ctx, args[0] ?? '');
        if (json) io.json({ server });
        else
          io.out(
            table([
              ['name', server.name],
              ['kind', server.kind],
              ['url', server.url],
              ['refs', `${server.host ?? server.name}/OWNER/REPO#N`],
              ['api', server.apiUrl ?? defaultApiUrl(server) ?? '-'],
              ['token', server.tokenEnv === null ? '-' : `$${server.tokenEnv}`],
              ['default', server.isDefault ? 'yes' : 'no'],
            ]),
          );
        return 0;
      }
    }
  });
}
