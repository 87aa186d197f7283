import { initHome } from '../../../core/operations/setup.js';
import { JSON_FLAG, expectPositionals, parse } from '../args.js';
import type { Io } from '../io.js';

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('init', argv, JSON_FLAG);
  expectPositionals('init', positionals, 0, 0, 'init');
  const { paths, created, base } = await initHome(process.env, (line) => io.err(line));
  if (values.json === true) {
    io.json({ home: paths.root, created, base });
    return 0;
  }
  io.out(
    created
      ? `initialized kugetsu in ${paths.root}`
      : `kugetsu is already initialized in ${paths.root} (checked and completed)`,
  );
  if ('error' in base) {
    io.out(
      `base session for ${base.agent}: not created (${base.error}); run \`kugetsu doctor --fix\` once the agent works`,
    );
  } else if (base.sessionId !== null) {
    io.out(`base session for ${base.agent}: ${base.sessionId}`);
  }
  io.out(
    `settings: ${paths.configEnv}\nnext: kugetsu server add NAME URL, then kugetsu start HOST/OWNER/REPO#N "what to do"`,
  );
  return 0;
}
