/**
 * What each CLI command costs before it does anything: `node` importing the command's module
 * graph (what `kugetsu <command>` loads through main.js's dispatch table), against bare
 * `node -e 0` in the same rounds, so the ratio holds on a loaded machine. Also the shipped bin
 * (package.json's `bin`: `list` from its CommonJS bundle, the rest handed to main.js):
 * `--version`, and `list --json` on an empty home and on one with 1,000 sessions (issue 14's
 * measure), with main.js's `list --json` and bench/list-floor.cjs (the same listing with nothing
 * of kugetsu around it) beside it.
 */
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import {
  BIN,
  CLI,
  ROOT,
  fmt,
  heading,
  line,
  makeWorld,
  median,
  note,
  seedSessions,
  verdict,
} from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_CLI_ROUNDS ?? 20);
const SESSIONS = 1_000;
const FLOOR = join(ROOT, 'bench', 'list-floor.cjs');
const TARGET_RATIO = 1.5;

/** `command → module` from main.ts's dispatch table, in its order. */
function commands() {
  const source = readFileSync(join(ROOT, 'src', 'cli', 'main.ts'), 'utf8');
  const table = new Map();
  for (const m of source.matchAll(
    /^\s+'?([\w-]+)'?: \(\) => import\('\.\/commands\/([\w-]+)\.js'\)/gm,
  ))
    table.set(m[1], m[2]);
  if (table.size === 0) throw new Error('no command table found in src/cli/main.ts');
  return table;
}

const world = makeWorld({ agentScript: 'exit 0' });
const full = makeWorld({ agentScript: 'exit 0' });

function timeNode([args, env]) {
  const t0 = performance.now();
  // stdout is a pipe, as for a caller reading --json; 'ignore' would make it /dev/null.
  execFileSync(process.execPath, args, {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 26,
  });
  return performance.now() - t0;
}

const LIST_FULL = `kugetsu list --json (${SESSIONS} sessions)`;

try {
  await seedSessions(full, SESSIONS);
  const table = commands();
  const modules = [...new Set(table.values())];
  const probes = [
    ['node -e 0', [['-e', '0'], world.env]],
    ['kugetsu --version', [[BIN, '--version'], world.env]],
    ['kugetsu list --json (empty home)', [[BIN, 'list', '--json'], world.env]],
    [LIST_FULL, [[BIN, 'list', '--json'], full.env]],
    [`main.js list --json (${SESSIONS} sessions)`, [[CLI, 'list', '--json'], full.env]],
    [`floor: bench/list-floor.cjs (${SESSIONS} sessions)`, [[FLOOR], full.env]],
    ...modules.map((m) => [
      `import commands/${m}.js`,
      [[join(ROOT, 'dist', 'src', 'cli', 'commands', `${m}.js`)], world.env],
    ]),
  ];
  heading(`CLI start-up per command (${ROUNDS} rounds, all probes in each round)`);
  const times = new Map(probes.map(([label]) => [label, []]));
  for (const [, args] of probes) timeNode(args); // warm the page cache
  for (let round = 0; round < ROUNDS; round += 1)
    for (const [label, args] of probes) times.get(label).push(timeNode(args));

  const bare = median(times.get('node -e 0'));
  for (const [label] of probes) {
    const m = median(times.get(label));
    line(label, `median ${fmt(m)} ms · ${fmt(m / bare, 2)}× node -e 0`);
  }
  const list = median(times.get(LIST_FULL)) / bare;
  line(
    `    list --json, ${SESSIONS} sessions, vs node -e 0 (target ≤ ${TARGET_RATIO}×)`,
    `${fmt(list, 2)}× ${verdict(list <= TARGET_RATIO)}`,
  );
  note(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  note('importing a command module runs nothing: its run() is only called by main.js');
} finally {
  world.cleanup();
  full.cleanup();
}
console.log('');
