import { initHome } from '../../../core/operations/setup.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import type { Io } from '../io.js';

export function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('init', argv, JSON_FLAG);
  expectPositionals('init', positionals, 0, 0, 'init');
  const { paths, created } = initHome(process.env);
  if (values.json === true) io.json({ home: paths.root, created });
  else {
    io.out(
      created
        ? `initialized kugetsu in ${paths.root}`
        : `kugetsu is already initialized in ${paths.root} (checked and completed)`,
    );
    io.out(
      `settings: ${paths.configEnv}\nnext: kugetsu server add NAME URL, then kugetsu start HOST/OWNER/REPO#N "what to do"`,
    );
  }
  return Promise.resolve(0);
}
