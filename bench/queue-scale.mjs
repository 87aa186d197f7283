/**
 * A deep queue, BENCH_SCALE_TASKS tasks (default 10,000) drained at the cap, two ways
 * (BENCH_SCALE_PART: `store`, `daemon` or both, the default):
 *
 *   store   through the Store alone, on SQLite and PostgreSQL (queue-scale-store.mjs): every
 *           task claimed and ended, per 1,000 the wall time per task and the median claim;
 *   daemon  one real daemon at MAX_CONCURRENT_AGENTS=3 running a no-op agent (`true`) on 30
 *           existing sessions. Per 1,000 tasks (by id) it prints the drain rate as ms per task
 *           (the wall time that thousand took, over its size) and the median claim → finish.
 *
 * A real no-op task costs tens of ms (a git call, a process), so the whole 10,000 take longer
 * than a benchmark should on 2 cores. Unless BENCH_SCALE_FULL=1, the daemon drains the first
 * 1,000 with all 10,000 queued, then the tasks from the 1,201st to the last 1,000 are cancelled
 * in one UPDATE, and the daemon drains on to the last 1,000 with at most 1,000 queued: the two
 * ends of a full drain, with the middle left out. Overhead that grows with the queue shows as
 * a first thousand slower than the last.
 */
import console from 'node:console';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { openSqliteStore } from '../dist/core/store/sqlite/sqlite-store.js';
import { wakeDaemon } from '../dist/core/wake-channel.js';
import {
  fmt,
  heading,
  line,
  makeWorld,
  median,
  note,
  verdict,
  waitFor,
  waitForTask,
} from './lib.mjs';
import { storeScale } from './queue-scale-store.mjs';
import { startStores } from './store-homes.mjs';

const TASKS = Number(process.env.BENCH_SCALE_TASKS ?? 10_000);
const PART = process.env.BENCH_SCALE_PART ?? 'all';
const FULL = process.env.BENCH_SCALE_FULL === '1';
const SESSIONS = 30;
const CAP = 3;
const GROUP = Math.min(1_000, TASKS);
/** Tasks past the first thousand drained before the middle is cancelled (claims in flight). */
const MARGIN = 200;
// Flat: the last thousand within this factor of the first.
const TARGET_RATIO = 1.25;

function task(n, mode) {
  return {
    kind: 'dev',
    mode,
    issueRef: `local/me/app#${n}`,
    message: `no-op on #${n}`,
    agent: 'command',
    maxAttempts: 1,
  };
}

async function daemonScale() {
  const skip = !FULL && TASKS > 2 * GROUP + MARGIN;
  heading(
    `queue scale, daemon (${TASKS} no-op tasks on ${SESSIONS} sessions, cap ${CAP}${skip ? ', middle cancelled' : ''})`,
  );
  const world = makeWorld({ agentCommand: 'true', maxAgents: CAP });
  try {
    const store = openSqliteStore(world.db);
    world.startDaemon();
    // The sessions and their worktrees first (not measured).
    const warm = [];
    for (let n = 1; n <= SESSIONS; n += 1)
      warm.push((await store.tasks.enqueue(task(n, 'start'), world.sessionFor(n))).id);
    await wakeDaemon(world.socket);
    for (const id of warm) await waitForTask(store, id, 120_000);

    const t0 = Date.now();
    const ids = [];
    for (let i = 0; i < TASKS; i += 1) {
      const n = (i % SESSIONS) + 1;
      ids.push((await store.tasks.enqueue(task(n, 'continue'), world.sessionFor(n))).id);
    }
    const queuedMs = Date.now() - t0;
    await wakeDaemon(world.socket);
    if (skip) {
      await waitForTask(store, ids[GROUP - 1], 30 * 60_000);
      const cancelled = store.db.run(
        `UPDATE tasks SET state = 'cancelled', finished_at = ? WHERE state = 'pending'
           AND id BETWEEN ? AND ?`,
        Date.now(),
        ids[GROUP + MARGIN],
        ids[TASKS - GROUP - 1],
      ).changes;
      note(`cancelled ${cancelled} pending tasks between the first and the last thousand`);
    }
    await waitFor(
      async () => {
        const pending = store.db.get(
          `SELECT COUNT(*) AS n FROM tasks WHERE state IN ('pending', 'running')`,
        ).n;
        return pending === 0 ? true : null;
      },
      'the queue to drain',
      60 * 60_000,
      500,
    );
    const rows = store.db.all(
      `SELECT id, state, started_at AS startedAt, finished_at AS finishedAt FROM tasks
         WHERE id >= ? AND state <> 'cancelled' ORDER BY id`,
      ids[0],
    );
    await store.close();
    const failed = rows.filter((r) => r.state !== 'completed').length;
    if (failed > 0) throw new Error(`${failed} of ${rows.length} tasks did not complete`);

    line('enqueue all (in-process, one transaction each)', `${queuedMs} ms`);
    line('drained in', `${fmt((rows.at(-1).finishedAt - t0) / 1000)} s (${rows.length} run)`);
    const groups = [];
    let previousEnd = t0;
    // With the middle cancelled: the first thousand, what ran between, the last thousand.
    const bounds = skip
      ? [0, GROUP, rows.length - GROUP]
      : Array.from({ length: Math.ceil(rows.length / GROUP) }, (_, i) => i * GROUP);
    for (const [i, at] of bounds.entries()) {
      const group = rows.slice(at, bounds[i + 1] ?? rows.length);
      const end = Math.max(...group.map((r) => r.finishedAt));
      const perTask = (end - previousEnd) / group.length;
      const run = median(group.map((r) => r.finishedAt - r.startedAt));
      groups.push(perTask);
      line(
        `tasks #${group[0].id}–#${group.at(-1).id} (${group.length}): drain, claim → finish`,
        `${fmt(perTask, 2)} ms per task · median ${fmt(run)} ms`,
      );
      previousEnd = end;
    }
    const ratio = groups.at(-1) / groups[0];
    line(
      `    last / first thousand (target ≤ ${TARGET_RATIO}×, flat)`,
      `${fmt(ratio, 2)}× ${verdict(ratio <= TARGET_RATIO)}`,
    );
    note(`drain rate per task is wall time / tasks with ${CAP} running at once`);
    note(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  } finally {
    world.cleanup();
  }
}

if (PART !== 'daemon') {
  heading(`queue scale, store (${TASKS} tasks drained at the cap, claim + end, no agent)`);
  const stores = await startStores();
  try {
    await storeScale(stores.home, TASKS, TARGET_RATIO);
  } finally {
    await stores.stop();
  }
  note(`load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
}
if (PART !== 'store') await daemonScale();
console.log('');
