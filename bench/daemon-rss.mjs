/**
 * Daemon memory: VmRSS (resident now) and VmHWM (peak resident) of the daemon process from
 * /proc/<pid>/status — on an idle home 3 s after start, and again 3 s after 50 no-op tasks
 * (10 issues × 5 tasks, all queued at once, MAX_CONCURRENT_AGENTS=3) have finished, then after
 * more batches up to BENCH_RSS_TASKS tasks in all (default 1,000: a plateau, not a leak, must
 * show). Heap snapshots after the first batch and after the last (the daemon runs with
 * --heapsnapshot-signal) say which kinds of object the growth is made of.
 */
import console from 'node:console';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
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
const TOTAL_TASKS = Number(process.env.BENCH_RSS_TASKS ?? 1_000);
const SAMPLES_AT = new Set([50, 200, 500, 1_000, 2_000, 5_000, TOTAL_TASKS]);
const ISSUES = 10;
const IDLE_WAIT_MS = 3_000;
const TARGET_IDLE_RSS_MB = 80;

const world = makeWorld({ agentScript: 'exit 0', maxAgents: 3 });
const heapDir = join(world.dir, 'heap');
mkdirSync(heapDir);
world.env.NODE_OPTIONS = `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${heapDir}`;

/** Signals the daemon for a heap snapshot; resolves with it parsed once the file is whole. */
async function heapSnapshot(pid) {
  const before = new Set(readdirSync(heapDir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 300; i += 1) {
    await delay(200);
    const file = readdirSync(heapDir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (file === undefined) continue;
    try {
      return JSON.parse(await readFile(join(heapDir, file), 'utf8'));
    } catch {
      // Still being written.
    }
  }
  throw new Error('no heap snapshot within 60 s');
}

/** RssAnon and RssFile of a process, in MB. */
function residentKinds(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) / 1024;
  return `${fmt(mb('RssAnon'))} / ${fmt(mb('RssFile'))} MB`;
}

/** Live objects by constructor (or type): count and self size, from a .heapsnapshot file. */
function heapSummary(snap) {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const byKind = new Map();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt]];
    const name = type === 'object' ? snap.strings[snap.nodes[i + nameAt]] : `(${type})`;
    const size = snap.nodes[i + sizeAt];
    const entry = byKind.get(name) ?? { count: 0, size: 0 };
    entry.count += 1;
    entry.size += size;
    total += size;
    byKind.set(name, entry);
  }
  return { total, byKind };
}

/** The kinds that grew most between two summaries. */
function reportGrowth(from, to, top = 8) {
  line(
    `    live heap (snapshots ${2 * TASKS} tasks apart)`,
    `${fmt(from.total / 2 ** 20)} → ${fmt(to.total / 2 ** 20)} MB`,
  );
  const grown = [...to.byKind]
    .map(([name, { count, size }]) => {
      const was = from.byKind.get(name) ?? { count: 0, size: 0 };
      return { name, count: count - was.count, size: size - was.size };
    })
    .sort((a, b) => b.size - a.size)
    .slice(0, top);
  for (const g of grown)
    line(
      `      ${g.name.slice(0, 40)}`,
      `${g.size >= 0 ? '+' : ''}${fmt(g.size / 1024)} KB, ${g.count >= 0 ? '+' : ''}${g.count} objects`,
    );
}

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

  // More batches tell growth that levels off (heap capacity) from growth that keeps going.
  let last = after;
  for (let done = TASKS; done < TOTAL_TASKS;) {
    await runBatch(false);
    done += TASKS;
    if (!SAMPLES_AT.has(done)) continue;
    await delay(IDLE_WAIT_MS);
    last = memoryOf(pid);
    line(
      `idle, 3 s after ${done} tasks: VmRSS / VmHWM`,
      `${fmt(last.rssMb)} / ${fmt(last.hwmMb)} MB`,
    );
  }
  line(
    `    target: flat from ${TASKS} to ${TOTAL_TASKS} tasks, and < ${TARGET_IDLE_RSS_MB} MB`,
    `${fmt(last.rssMb - after.rssMb)} MB change · ${verdict(last.rssMb < TARGET_IDLE_RSS_MB)}`,
  );
  line('    anonymous / file-backed resident memory', residentKinds(pid));

  // Writing a snapshot grows the process by several times its heap, so both come last, around
  // 100 more tasks: what those leave behind on the heap is what would keep growing.
  const firstHeap = heapSummary(await heapSnapshot(pid));
  for (let i = 0; i < 2; i += 1) await runBatch(false);
  await delay(IDLE_WAIT_MS);
  reportGrowth(firstHeap, heapSummary(await heapSnapshot(pid)));
  await store.close();
  note('RSS of the daemon process only (agents and git are separate processes)');
  note('the heap snapshots come after every RSS sample: writing one grows the process');
} finally {
  world.cleanup();
}
console.log('');
