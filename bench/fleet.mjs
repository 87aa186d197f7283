/**
 * The Store seam of a fleet, SQLite beside PostgreSQL (an embedded PostgreSQL this starts):
 *
 *   (a) dispatch latency over PostgreSQL with 1 and 4 workers: each worker is a handle of its
 *       own that listens for wake-ups (LISTEN/NOTIFY) and claims when woken, as the daemon
 *       does; latency is enqueue → the task claimed by one of them (no agent spawned);
 *   (b) a backlog of queued tasks drained at the cap by 4 workers (claim, then end the
 *       attempt), timed per 1,000: the per-task overhead must stay flat as the queue empties;
 *   (c) claims per second under contention: 4 handles claiming and ending attempts as fast as
 *       they can on one queue, global cap 4.
 *
 * Sizes: FLEET_BACKLOG (default 10000), FLEET_LATENCY_TASKS (default 50).
 */
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { fmt, heading, line, note, summary, wallMs } from './lib.mjs';
import { claimParams, done, startStores, task } from './store-homes.mjs';

const BACKLOG = Number(process.env.FLEET_BACKLOG ?? 10_000);
const LATENCY_TASKS = Number(process.env.FLEET_LATENCY_TASKS ?? 50);
const CONTENTION_MS = 5_000;
const { home, stop } = await startStores();

/** Claims and ends attempts until nothing is claimable; resolves with how many it ran. */
async function drain(store, worker, maxAgents, stopAt = Infinity) {
  let ran = 0;
  for (;;) {
    if (Date.now() > stopAt) return ran;
    const { claimed } = await store.claims.claim(claimParams(worker, maxAgents));
    if (claimed.length === 0) {
      if ((await store.tasks.stats()).pending === 0) return ran;
      continue;
    }
    for (const t of claimed) {
      await store.tasks.finishAttempt(t.id, null, 0, done, null, undefined, t.fence);
      ran += 1;
    }
  }
}

async function latency(workers) {
  const open = await home('postgres');
  const producer = await open();
  const handles = [];
  const claimedAt = new Map();
  for (let w = 0; w < workers; w += 1) {
    const store = await open();
    // As the daemon coalesces wake-ups: one pass at a time, and one more if woken meanwhile.
    let busy = false;
    let again = false;
    let closed = false;
    const onWake = async () => {
      if (closed) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      do {
        again = false;
        const { claimed } = await store.claims.claim(claimParams(`w${w}`, 4));
        const at = wallMs();
        for (const t of claimed) {
          claimedAt.set(t.id, at);
          await store.tasks.finishAttempt(t.id, null, 0, done, null, undefined, t.fence);
        }
      } while (again);
      busy = false;
    };
    const sub = await store.onWake(() => void onWake());
    handles.push({
      close: async () => {
        closed = true;
        await sub.close();
        while (busy) await new Promise((r) => setTimeout(r, 5));
        await store.close();
      },
    });
  }
  const times = [];
  for (let n = 1; n <= LATENCY_TASKS; n += 1) {
    const t0 = wallMs();
    const queued = await producer.tasks.enqueue(...task(n));
    while (!claimedAt.has(queued.id)) await new Promise((r) => setTimeout(r, 0.2));
    times.push(claimedAt.get(queued.id) - t0);
  }
  for (const h of handles) await h.close();
  await producer.close();
  return times;
}

async function backlog(engine) {
  const open = await home(engine);
  const producer = await open();
  for (let n = 1; n <= BACKLOG; n += 1) await producer.tasks.enqueue(...task(n));
  const handles = [];
  for (let w = 0; w < 4; w += 1) handles.push(await open());
  const perThousand = [];
  let last = performance.now();
  let lastDone = 0;
  const t0 = performance.now();
  const counts = handles.map(() => 0);
  await Promise.all(
    handles.map(async (store, w) => {
      for (;;) {
        const { claimed } = await store.claims.claim(claimParams(`w${w}`, 1));
        if (claimed.length === 0) {
          if ((await store.tasks.stats()).pending === 0) return;
          continue;
        }
        for (const t of claimed) {
          await store.tasks.finishAttempt(t.id, null, 0, done, null, undefined, t.fence);
          counts[w] += 1;
        }
        const total = counts.reduce((a, b) => a + b, 0);
        if (total - lastDone >= 1_000) {
          const now = performance.now();
          perThousand.push((now - last) / (total - lastDone));
          last = now;
          lastDone = total;
        }
      }
    }),
  );
  const totalMs = performance.now() - t0;
  for (const h of [producer, ...handles]) await h.close();
  return { totalMs, perThousand };
}

async function contention(engine) {
  const open = await home(engine);
  const producer = await open();
  const handles = [];
  for (let w = 0; w < 4; w += 1) handles.push(await open());
  for (let n = 1; n <= 3_000; n += 1) await producer.tasks.enqueue(...task(n));
  const stopAt = Date.now() + CONTENTION_MS;
  const t0 = performance.now();
  const ran = await Promise.all(handles.map((s, w) => drain(s, `w${w}`, 1, stopAt)));
  const seconds = (performance.now() - t0) / 1000;
  for (const h of [producer, ...handles]) await h.close();
  return ran.reduce((a, b) => a + b, 0) / seconds;
}

try {
  heading('fleet (a): dispatch latency over PostgreSQL, enqueue → claimed by a woken worker');
  for (const workers of [1, 4]) line(`${workers} worker(s)`, summary(await latency(workers)));
  note('each worker a handle of its own, woken over LISTEN/NOTIFY; no agent is spawned');

  heading(`fleet (b): ${BACKLOG} queued tasks drained by 4 workers at the cap (claim + end)`);
  for (const engine of ['sqlite', 'postgres']) {
    const { totalMs, perThousand } = await backlog(engine);
    line(`${engine}: total`, `${fmt(totalMs / 1000, 1)} s (${fmt(totalMs / BACKLOG, 2)} ms/task)`);
    line(
      `${engine}: ms/task per 1,000, first → last`,
      perThousand.map((v) => fmt(v, 2)).join(' · '),
    );
  }

  heading('fleet (c): claims per second, 4 handles on one queue, global cap 4');
  for (const engine of ['sqlite', 'postgres'])
    line(engine, `${fmt(await contention(engine), 0)} claims/s (each claim and its end)`);
} finally {
  await stop();
}
