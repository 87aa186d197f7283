import { readFileSync } from 'node:fs';
import { parseEnvScope } from '../../../core/env-files.js';
import { OperationError } from '../../../core/errors.js';
import { maskValue } from '../../../core/secrets.js';
import { JSON_FLAG, expectPositionals, parse, subcommand } from '../args.js';
import { withHome } from '../home.js';
import { table, type Io } from '../io.js';
import { USAGE } from '../usage.js';

const SUBCOMMANDS = ['list', 'show', 'set', 'get', 'rm'] as const;

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('env', argv, JSON_FLAG);
  const sub = subcommand('env', positionals[0], SUBCOMMANDS, 'list');
  const args = positionals.slice(1);
  const usage = USAGE['env'] ?? '';
  const json = values.json === true;
  return withHome(io, (ctx, io) => {
    const files = ctx.envFiles;
    switch (sub) {
      case 'list': {
        expectPositionals('env list', args, 0, 0, usage);
        const scopes = files.scopes().map((scope) => ({
          agent: scope,
          file: files.path(scope),
          keys: Object.keys(files.read(scope)).length,
        }));
        if (json) io.json({ files: scopes });
        else
          io.out(
            scopes.length === 0
              ? 'no env files (`kugetsu init` creates them)'
              : table(scopes.map((s) => [s.agent, `${s.keys} key(s)`, s.file])),
          );
        return 0;
      }
      case 'show': {
        expectPositionals('env show', args, 0, 1, usage);
        const scope = parseEnvScope(args[0]);
        // Shows what that agent receives: default.env overlaid with its own file, masked.
        const entries = Object.entries(files.merged(scope)).map(([key, value]) => ({
          key,
          value: maskValue(key, value),
        }));
        if (json) io.json({ agent: scope, entries });
        else
          io.out(
            entries.length === 0
              ? `no variables for ${scope}`
              : entries.map((e) => `${e.key}=${e.value}`).join('\n'),
          );
        return 0;
      }
      case 'set': {
        expectPositionals('env set', args, 2, 3, usage);
        const [key = '', raw = ''] = args;
        const scope = parseEnvScope(args[2]);
        // `-` reads the value from stdin so a token never lands in shell history or `ps`.
        const value = raw === '-' ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : raw;
        files.set(key, value, scope);
        if (json) io.json({ agent: scope, key, value: maskValue(key, value) });
        else io.out(`set ${key} for ${scope}`);
        return 0;
      }
      case 'get': {
        expectPositionals('env get', args, 1, 2, usage);
        const [key = ''] = args;
        const scope = parseEnvScope(args[1]);
        const value = files.read(scope)[key];
        if (value === undefined) throw new OperationError(`${key} is not set for ${scope}`);
        if (json) io.json({ agent: scope, key, value: maskValue(key, value) });
        else io.out(maskValue(key, value));
        return 0;
      }
      case 'rm': {
        expectPositionals('env rm', args, 1, 2, usage);
        const [key = ''] = args;
        const scope = parseEnvScope(args[1]);
        if (!files.remove(key, scope)) throw new OperationError(`${key} is not set for ${scope}`);
        if (json) io.json({ agent: scope, removed: key });
        else io.out(`removed ${key} from ${scope}`);
        return 0;
      }
    }
  });
}
