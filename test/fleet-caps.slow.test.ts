/**
 * A fleet's caps and its sessions: tasks delegated through the CLIs of several workers on one
 * PostgreSQL run once each under the per-host and global caps counted from the process table,
 * and a session moves to another worker (helpers/fleet-world.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agentLog,
  allDone,
  daemonLog,
  enqueue,
  fleet,
  sampleAgents,
  useFleet,
  worker,
  workers,
} from './helpers/fleet-world.js';

// The issue says 200; each task is a CLI process of its own, and on the 2-core CI machine,
// with every other suite running beside it, 200 cost 165 s of this file's and about 100 s of CPU
// (the suite's budget is 10 minutes). CI runs 60; FLEET_TASKS=200 runs the full size, which
// passed in 175 s on the same machine under load (2026-12-04), its agents sleeping 0.5 s.
// Here they sleep 1.5 s: on a busy machine a task's start takes longer than half a second,
// and four must overlap for the global cap to be tested.
const N = Number(process.env['FLEET_TASKS'] ?? 60);

useFleet();

describe('a fleet of workers on one PostgreSQL database: caps and sessions', () => {
  it(`runs ${N} tasks delegated through different workers once each, under the per-host and global caps`, async () => {
    const { log, db } = await fleet(
      [
        { name: 'w1', cap: 2 },
        { name: 'w2', cap: 3 },
        { name: 'w3', cap: 3 },
      ],
      { KUGETSU_GLOBAL_MAX_AGENTS: '4', AGENT_SLEEP: '1.5' },
    );
    // Ten CLIs at a time, spread over the workers' homes: the first half queued before any
    // daemon runs (so the caps are met at once), the second delegated while all three claim.
    const sampler = sampleAgents();
    const t0 = Date.now();
    const ids: number[] = [];
    const through = async (first: number, count: number, command: 'enqueue' | 'delegate') => {
      for (let batch = 0; batch < count / 10; batch += 1) {
        const started = Array.from({ length: 10 }, async (_, i) => {
          const issue = first + batch * 10 + i;
          const w = workers[issue % workers.length];
          if (w === undefined) throw new Error('no worker');
          return command === 'enqueue'
            ? enqueue(w, issue)
            : (await w.json<{ taskId: number }>(['delegate', `work on #${issue} please`])).taskId;
        });
        ids.push(...(await Promise.all(started)));
      }
    };
    await through(1, N / 2, 'enqueue');
    await Promise.all(workers.map((w) => w.ok(['daemon', 'start'])));
    await through(N / 2 + 1, N / 2, 'delegate');
    expect(new Set(ids).size).toBe(N);
    const tasks = await allDone(db, N, 300_000);
    process.stderr.write(`fleet: ${N} tasks queued and run in ${Date.now() - t0} ms\n`);
    const { most, mostInAll, twice } = await sampler.stop();

    expect(tasks.filter((t) => t.state === 'completed')).toHaveLength(N);
    expect(twice).toEqual([]);
    expect(mostInAll).toBeLessThanOrEqual(4);
    expect(most.get('w1') ?? 0).toBeLessThanOrEqual(2);
    expect(most.get('w2') ?? 0).toBeLessThanOrEqual(3);
    expect(most.get('w3') ?? 0).toBeLessThanOrEqual(3);
    // The global cap was reached, so the bound was tested, not idle.
    expect(mostInAll).toBe(4);
    const starts = agentLog(log).filter((e) => e.event === 'start');
    expect(starts.map((e) => e.task).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    // Every worker took a share.
    expect(new Set(starts.map((e) => e.worker))).toEqual(new Set(['w1', 'w2', 'w3']));
    const listed = await workers[0]?.json<{ fleet: boolean; workers: { name: string }[] }>([
      'workers',
    ]);
    expect(listed?.fleet).toBe(true);
    expect(listed?.workers.map((w) => w.name)).toEqual(['w1', 'w2', 'w3']);
  }, 420_000);

  it('moves a session to another worker, which goes on from the pushed branch', async () => {
    const { log, db } = await fleet(
      [
        { name: 'a', cap: 1 },
        { name: 'b', cap: 1 },
      ],
      { FLEET_COMMIT: '1' },
    );
    const a = worker('a');
    const b = worker('b');
    for (const w of workers) await w.ok(['daemon', 'start']);
    const first = await enqueue(a, 5);
    await a.until(
      'the first task done',
      async () => (await db.tasks.get(first))?.state === 'completed',
    );
    const ranOn = agentLog(log).find((e) => e.event === 'end' && e.task === first)?.worker;
    const other = ranOn === 'a' ? b : a;
    const otherName = ranOn === 'a' ? 'b' : 'a';
    expect(await db.sessions.workerOf('local/me/app#5')).toBe(ranOn);

    const running = await a.cli(['session', 'move', 'local/me/app#5', 'nobody']);
    expect(running.code).toBe(1);
    expect(running.stderr).toBe('kugetsu: worker nobody not found: see `kugetsu workers`\n');
    const moved = await a.json<{ from: string; to: string }>([
      'session',
      'move',
      'local/me/app#5',
      otherName,
    ]);
    expect(moved).toMatchObject({ from: ranOn, to: otherName });
    const second = await enqueue(a, 5, 'quickly, go on');
    await a.until(
      'the follow-up done',
      async () => (await db.tasks.get(second))?.state === 'completed',
    );
    expect(agentLog(log).find((e) => e.event === 'end' && e.task === second)?.worker).toBe(
      otherName,
    );
    // Each worker logs every event of the fleet, on a delivery cursor of its own.
    for (const w of workers)
      await w.until(`${w.env['KUGETSU_WORKER_NAME'] ?? ''} to log both ends`, () =>
        [first, second].every((id) => daemonLog(w).includes(`event task_completed task=${id} `)),
      );
    // The new worktree holds what the first worker committed and pushed.
    const session = await db.sessions.get('local/me/app#5');
    const worktree = join(other.home, 'worktrees', session?.workspaceKey ?? '');
    expect(readFileSync(join(worktree, `task-${first}.txt`), 'utf8')).toBe(`${ranOn}\n`);
  }, 120_000);
});
