/**
 * A deep queue: BENCH_SCALE_TASKS no-op tasks (default 10,000) queued at once on 30 existing
 * sessions, drained by one daemon at MAX_CONCURRENT_AGENTS=3. Per thousand tasks (by id) it
 * prints the drain rate as ms per task (the wall time that thousand took, over its size) and the
 * median claim → finish of its tasks, so overhead that grows with the queue or with the store's
 * history shows as a difference between the first thousand and the last.
 */
import console from 'node:console';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { openSqliteStore } from '../dist/core/store/sqlite/sqlite-store.js';
import { wakeDaemon } from '../dist/core/wake-channel.js';
import {
  fmt,
  heading,
  isFinished,
  line,
  makeWorld,
  median,
  note,
  verdict,
  waitFor,
  waitForTask,
} from './lib.mjs';

const TASKS = Number(process.env.BENCH_SCALE_TASKS ?? 10_000);
const SESSIONS = 30;
const CAP = 3;
const GROUP = Math.min(1_000, TASKS);
// Flat: the last thousand within this factor of the first.
const TARGET_RATIO = 1.25;

const world = makeWorld({ agentCommand: 'true', maxAgents: CAP });

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

try {
  heading(`queue scale (${TASKS} no-op tasks on ${SESSIONS} sessions, cap ${CAP})`);
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
  const last = ids[ids.length - 1];
  await waitFor(
    async () => {
      const t = await store.tasks.get(last);
      const pending = store.db.get(
        `SELECT COUNT(*) AS n FROM tasks WHERE state IN ('pending', 'running')`,
      ).n;
      return t !== null && isFinished(t.state) && pending === 0 ? t : null;
    },
    'the queue to drain',
    60 * 60_000,
    500,
  );
  const rows = store.db.all(
    `SELECT id, state, started_at AS startedAt, finished_at AS finishedAt FROM tasks WHERE id >= ? ORDER BY id`,
    ids[0],
  );
  await store.close();
  const failed = rows.filter((r) => r.state !== 'completed').length;
  if (failed > 0) throw new Error(`${failed} of ${TASKS} tasks did not complete`);

  line('enqueue all (in-process, one transaction each)', `${queuedMs} ms`);
  line('drained in', `${fmt((rows.at(-1).finishedAt - t0) / 1000)} s`);
  const groups = [];
  let previousEnd = t0;
  for (let at = 0; at < rows.length; at += GROUP) {
    const group = rows.slice(at, at + GROUP);
    const end = Math.max(...group.map((r) => r.finishedAt));
    const perTask = (end - previousEnd) / group.length;
    const run = median(group.map((r) => r.finishedAt - r.startedAt));
    groups.push(perTask);
    line(
      `tasks ${at + 1}–${at + group.length}: drain, claim → finish`,
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
console.log('');
