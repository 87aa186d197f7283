/**
 * Daemon memory: VmRSS (resident now) and VmHWM (peak resident) of the daemon process from
 * /proc/<pid>/status — on an idle home 3 s after start, and again 3 s after 50 no-op tasks
 * (10 issues × 5 tasks, all queued at once, MAX_CONCURRENT_AGENTS=3) have finished, and once
 * more after a second batch of 50 (to tell a plateau from a leak).
 */
import console from 'node:console';
import { openSqliteStore } from '../dist/core/store/sqlite/sqlite-store.js';
import { wakeDaemon } from '../dist/core/wake-channel.js';
import {
  delay,
  fmt,
  heading,
  line,
  makeWorld,
  memoryOf,
  note,
  verdict,
  waitForTask,
} from './lib.mjs';

const TASKS = 50;
const ISSUES = 10;
const IDLE_WAIT_MS = 3_000;
const TARGET_IDLE_RSS_MB = 80;

const world = makeWorld({ agentScript: 'exit 0', maxAgents: 3 });

function report(label, mem) {
  line(`${label}: VmRSS`, `${fmt(mem.rssMb)} MB`);
  line(`${label}: VmHWM (peak so far)`, `${fmt(mem.hwmMb)} MB`);
}

try {
  heading('daemon memory (VmRSS / VmHWM)');
  const pid = world.startDaemon();
  line('daemon pid', String(pid));
  await delay(IDLE_WAIT_MS);
  const idle = memoryOf(pid);
  report('idle, 3 s after start', idle);
  line(
    `    target idle RSS < ${TARGET_IDLE_RSS_MB} MB`,
    `${verdict(idle.rssMb < TARGET_IDLE_RSS_MB)} (${fmt(idle.rssMb)} MB)`,
  );

  const store = openSqliteStore(world.db);
  /** Queues 50 no-op tasks at once (new issues first, then follow-ups) and waits for all. */
  const runBatch = async (first) => {
    const t0 = Date.now();
    const ids = [];
    for (let i = 0; i < TASKS; i += 1) {
      const n = (i % ISSUES) + 1;
      const task = await store.tasks.enqueue(
        {
          kind: 'dev',
          mode: first && i < ISSUES ? 'start' : 'continue',
          issueRef: `local/me/app#${n}`,
          message: `no-op ${i}`,
          agent: 'command',
          maxAttempts: 1,
        },
        world.sessionFor(n),
      );
      ids.push(task.id);
    }
    await wakeDaemon(world.socket);
    let completed = 0;
    for (const id of ids) {
      const task = await waitForTask(store, id, 120_000);
      if (task.state === 'completed') completed += 1;
    }
    if (completed !== TASKS) throw new Error(`only ${completed}/${TASKS} tasks completed`);
    return Date.now() - t0;
  };

  const elapsed = await runBatch(true);
  line(`${TASKS} no-op tasks on ${ISSUES} issues (3 at a time)`, `done in ${elapsed} ms`);
  await delay(IDLE_WAIT_MS);
  const after = memoryOf(pid);
  report('idle again, 3 s after the tasks', after);
  line(
    `    target idle RSS < ${TARGET_IDLE_RSS_MB} MB`,
    `${verdict(after.rssMb < TARGET_IDLE_RSS_MB)} (${fmt(after.rssMb)} MB)`,
  );
  line('    growth of idle RSS', `${fmt(after.rssMb - idle.rssMb)} MB`);

  // A second batch tells growth that levels off (heap capacity) from growth that keeps going.
  await runBatch(false);
  await delay(IDLE_WAIT_MS);
  const again = memoryOf(pid);
  report(`idle, 3 s after another ${TASKS} tasks`, again);
  line('    change since the first batch', `${fmt(again.rssMb - after.rssMb)} MB`);
  await store.close();
  note('RSS of the daemon process only (agents and git are separate processes)');
} finally {
  world.cleanup();
}
console.log('');
