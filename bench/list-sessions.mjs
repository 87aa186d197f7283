/**
 * `kugetsu list` with 1,000 sessions in the store, timed as whole processes (what a user
 * waits for): 20 runs each after 2 warm-ups. Half the sessions are `left`, so the default
 * listing (used + left) returns 500 rows and `--all` returns 1,000. For reference: bare
 * `node -e 0`, `kugetsu --version` (the CLI's smallest path) and the listing in-process.
 */
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import process from 'node:process';
import { openHome } from '../dist/core/home-context.js';
import { listSessions } from '../dist/core/operations/session-list.js';
import {
  BIN,
  ROOT,
  fmt,
  heading,
  line,
  makeWorld,
  median,
  note,
  percentile,
  seedSessions,
  timeRuns,
  timeRunsAsync,
  verdict,
} from './lib.mjs';

const SESSIONS = 1_000;
const RUNS = 20;
const TARGET_MEDIAN_MS = 150;
const LIST_MODULE = join(ROOT, 'dist', 'src', 'cli', 'commands', 'list.js');

const world = makeWorld({ agentScript: 'exit 0' });

function node(args) {
  return execFileSync(process.execPath, args, {
    env: world.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

function stats(times) {
  return `median ${fmt(median(times))} · p95 ${fmt(percentile(times, 95))} ms (n=${times.length})`;
}

try {
  heading(`list sessions (${SESSIONS} sessions in the store)`);
  // References on the same home before it holds any session: the fixed cost of the command.
  const empty = timeRuns(() => node([BIN, 'list', '--all', '--json']), RUNS);
  const importOnly = timeRuns(
    () => node(['--input-type=module', '-e', `import ${JSON.stringify(LIST_MODULE)};`]),
    RUNS,
  );

  const counts = await seedSessions(world, SESSIONS);
  line('sessions by state', counts.map((c) => `${c.state}=${c.n}`).join(' '));

  const shown = JSON.parse(node([BIN, 'list', '--json'])).sessions.length;
  const shownAll = JSON.parse(node([BIN, 'list', '--all', '--json'])).sessions.length;
  if (shown !== SESSIONS / 2 || shownAll !== SESSIONS)
    throw new Error(`unexpected row counts: list ${shown}, list --all ${shownAll}`);

  const bare = timeRuns(() => node(['-e', '0']), RUNS);
  const version = timeRuns(() => node([BIN, '--version']), RUNS);
  const list = timeRuns(() => node([BIN, 'list', '--json']), RUNS);
  const listAll = timeRuns(() => node([BIN, 'list', '--all', '--json']), RUNS);

  // The same work in-process: open the home, list, serialise (what the process adds to node).
  const inProcess = (all) =>
    timeRunsAsync(async () => {
      const ctx = await openHome(world.env);
      try {
        JSON.stringify({ sessions: await listSessions(ctx, all) }, null, 2);
      } finally {
        ctx.close();
      }
    }, RUNS);
  const inList = await inProcess(false);
  const inListAll = await inProcess(true);

  line('node -e 0 (bare Node start-up, reference)', stats(bare));
  line('kugetsu --version (CLI floor, reference)', stats(version));
  line('node: import the list command module graph only', stats(importOnly));
  line('kugetsu list --all --json, 0 sessions (fixed cost)', stats(empty));
  line(`kugetsu list --json (${shown} rows)`, stats(list));
  line(
    `    target median < ${TARGET_MEDIAN_MS} ms`,
    `${verdict(median(list) < TARGET_MEDIAN_MS)} (median ${fmt(median(list))} ms)`,
  );
  line(`kugetsu list --all --json (${shownAll} rows)`, stats(listAll));
  line(
    `    target median < ${TARGET_MEDIAN_MS} ms`,
    `${verdict(median(listAll) < TARGET_MEDIAN_MS)} (median ${fmt(median(listAll))} ms)`,
  );
  line('in-process openHome + listSessions + JSON (used+left)', stats(inList));
  line('in-process openHome + listSessions + JSON (--all)', stats(inListAll));
  note(
    `whole processes, ${RUNS} runs after 2 warm-ups each; in-process runs are on a warm module cache`,
  );

  // Where the in-process time goes, once: the store query vs the per-session work.
  const ctx = await openHome(world.env);
  try {
    let t0 = performance.now();
    await ctx.store.sessions.list({ all: true });
    const query = performance.now() - t0;
    t0 = performance.now();
    await listSessions(ctx, true);
    const full = performance.now() - t0;
    line(
      '    one --all listing: sessions query / full listSessions',
      `${fmt(query)} / ${fmt(full)} ms`,
    );
  } finally {
    ctx.close();
  }
} finally {
  world.cleanup();
}
console.log('');
