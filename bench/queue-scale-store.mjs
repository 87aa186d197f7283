/**
 * The store-level half of `queue-scale`: BENCH_SCALE_TASKS tasks (one session each) queued, then
 * drained at the cap through the Store alone — claim, then end the attempt at once, no agent —
 * on SQLite (one handle, cap 3) and on PostgreSQL (one worker at cap 3; four workers at a
 * per-host cap of 1 under a global cap of 4). Per 1,000 tasks, in claim order, it prints the wall
 * time per task and the median claim, so a claim whose cost follows the queue's length shows as
 * a first thousand (queue 10,000 → 9,000) slower than the last (1,000 → 0).
 */
import { performance } from 'node:perf_hooks';
import { fmt, line, median, verdict } from './lib.mjs';
import { claimParams, done, task } from './store-homes.mjs';

const CAP = 3;

/** Queues `tasks` tasks, then drains them with `workers` handles; per 1,000: ms/task, claim ms. */
async function drain(open, tasks, workers) {
  const producer = await open();
  for (let n = 1; n <= tasks; n += 1) await producer.tasks.enqueue(...task(n));
  const handles = [];
  for (let w = 0; w < workers; w += 1) handles.push(await open());
  const groups = [];
  let current = { claims: [], started: performance.now(), done: 0 };
  let total = 0;
  await Promise.all(
    handles.map(async (store, w) => {
      const params = workers === 1 ? claimParams(undefined, CAP) : claimParams(`w${w}`, 1, workers);
      for (;;) {
        const t0 = performance.now();
        const { claimed } = await store.claims.claim(params);
        const claimMs = performance.now() - t0;
        if (claimed.length === 0) {
          if ((await store.tasks.stats()).pending === 0) return;
          continue;
        }
        current.claims.push(claimMs);
        for (const t of claimed)
          await store.tasks.finishAttempt(t.id, null, 0, done, null, undefined, t.fence);
        total += claimed.length;
        current.done += claimed.length;
        if (current.done >= 1_000 || total === tasks) {
          const now = performance.now();
          groups.push({
            perTask: (now - current.started) / current.done,
            claim: median(current.claims),
          });
          current = { claims: [], started: now, done: 0 };
        }
      }
    }),
  );
  for (const h of [producer, ...handles]) await h.close();
  return groups;
}

/** Drains on each engine and prints the per-1,000 costs and the last / first ratio. */
export async function storeScale(home, tasks, targetRatio) {
  const runs = [
    ['sqlite', 1],
    ['postgres', 1],
    ['postgres', 4],
  ];
  for (const [engine, workers] of runs) {
    const groups = await drain(await home(engine), tasks, workers);
    const label = `${engine}, ${workers} worker${workers === 1 ? '' : 's'}`;
    line(
      `${label}: ms/task per 1,000, first → last`,
      groups.map((g) => fmt(g.perTask, 2)).join(' · '),
    );
    line(`${label}: median claim per 1,000`, groups.map((g) => fmt(g.claim, 2)).join(' · '));
    const ratio = groups.at(-1).perTask / groups[0].perTask;
    line(
      `${label}: last / first thousand (target ≤ ${targetRatio}×)`,
      `${fmt(ratio, 2)}× ${verdict(ratio <= targetRatio)}`,
    );
  }
}
