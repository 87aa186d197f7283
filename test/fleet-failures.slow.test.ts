/**
 * A fleet's failures: a worker killed or paused past its lease, and the database out of reach
 * for 20 seconds (helpers/fleet-world.ts).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  LEASE_S,
  agentLog,
  agentsByWorker,
  allDone,
  daemonLog,
  daemonPid,
  enqueue,
  fleet,
  pg,
  sampleAgents,
  useFleet,
  worker,
  workers,
} from './helpers/fleet-world.js';
import { git } from './helpers/sandbox.js';

useFleet();

describe('a fleet of workers on one PostgreSQL database: failures', () => {
  it('finishes a killed worker’s tasks on another after the lease, never two at once', async () => {
    // a's agents would outlive the test: only b's recovery ends them.
    const { log, db } = await fleet([
      { name: 'a', cap: 2, env: { AGENT_SLEEP: '90' } },
      { name: 'b', cap: 2, env: { AGENT_SLEEP: '0.5' } },
    ]);
    const a = worker('a');
    await a.ok(['daemon', 'start']);
    const ids = [await enqueue(a, 1), await enqueue(a, 2)];
    await a.until('both tasks running on a', async () => {
      const slots = (await db.workers.list()).find((w) => w.name === 'a')?.taskIds ?? [];
      return slots.length === 2 && agentsByWorker().get('a')?.size === 2;
    });
    await worker('b').ok(['daemon', 'start']);
    const sampler = sampleAgents();
    const killedAt = Date.now();
    process.kill(daemonPid(a), 'SIGKILL');
    const tasks = await allDone(db, 2, 60_000);
    const { twice } = await sampler.stop();

    expect(tasks.map((t) => t.state)).toEqual(['completed', 'completed']);
    expect(twice).toEqual([]);
    const ends = agentLog(log).filter((e) => e.event === 'end');
    // Only b's agents ran to their end: a's were ended when b recovered their tasks.
    expect(ends.map((e) => e.worker)).toEqual(['b', 'b']);
    expect(ends.map((e) => e.task).sort()).toEqual(ids.sort());
    const b = daemonLog(worker('b'));
    expect(b).toMatch(/worker a silent past its lease: recovered #\d+, #\d+/);
    // Not before the lease ran out.
    const recoveredAt = (await db.runs.list(ids[0] ?? 0)).at(-1)?.startedAt ?? 0;
    expect(recoveredAt - killedAt).toBeGreaterThanOrEqual(LEASE_S * 1000);
  }, 120_000);

  it('lets a worker paused past its lease push nothing for the task it lost', async () => {
    const { db } = await fleet(
      [
        { name: 'a', cap: 1 },
        { name: 'b', cap: 1 },
      ],
      { AGENT_SLEEP: '2', FLEET_COMMIT: '1' },
    );
    const a = worker('a');
    const b = worker('b');
    await a.ok(['daemon', 'start']);
    const id = await enqueue(a, 7);
    await a.until('the agent running on a', () => agentsByWorker().get('a')?.size === 1);
    const pid = daemonPid(a);
    process.kill(pid, 'SIGSTOP');
    try {
      await b.ok(['daemon', 'start']);
      await b.until(
        'the task to complete on b',
        async () => (await db.tasks.get(id))?.state === 'completed',
        30_000,
      );
      // a's run, interrupted by the recovery, and b's.
      expect(await db.runs.list(id)).toHaveLength(2);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await a.until('a to notice', () => /not handed off|moved on/.test(daemonLog(a)), 15_000);
    // a's agent ended during the pause, and a heard of it only after: it pushed nothing.
    const branch = 'kugetsu/local-me-app-7';
    const remote = join(a.gitRoot, 'me', 'app');
    const subjects = git(remote, ['log', '--format=%s', branch]);
    expect(subjects).toContain(`task ${id} by b`);
    expect(subjects).not.toContain(`task ${id} by a`);
    // It did reach its hand-off (its agent succeeded), and declined it.
    const transcripts = readdirSync(join(a.home, 'logs', 'tasks'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.log'))
      .map((f) => readFileSync(join(a.home, 'logs', 'tasks', f), 'utf8'))
      .join('\n');
    expect(transcripts).toContain('not handed off: this worker lost its claim');
    expect(daemonLog(a)).toMatch(/moved on: claim \d+ no longer holds it/);
    expect((await db.tasks.get(id))?.state).toBe('completed');
  }, 120_000);

  it('keeps running agents through 20 s without the database, claims nothing meanwhile, and recovers', async () => {
    // Each agent runs until the test releases it: b's in the middle of the outage (it commits,
    // so its hand-off and its end wait for the database instead of failing the attempt), a's
    // once the database is back.
    const { log, db } = await fleet([
      { name: 'a', cap: 1 },
      { name: 'b', cap: 1, env: { FLEET_COMMIT: '1' } },
    ]);
    // In each worker's own directory, removed with it whatever the test's end.
    const releases = { a: join(worker('a').dir, 'release'), b: join(worker('b').dir, 'release') };
    worker('a').env['FLEET_RELEASE'] = releases.a;
    worker('b').env['FLEET_RELEASE'] = releases.b;
    for (const w of workers) await w.ok(['daemon', 'start']);
    const ids = [await enqueue(worker('a'), 1), await enqueue(worker('b'), 2)];
    await worker('a').until('both agents running', () => {
      const alive = agentsByWorker();
      return alive.get('a')?.size === 1 && alive.get('b')?.size === 1;
    });
    await pg.pause();
    const during = sampleAgents();
    const outage = Date.now();
    let released = false;
    while (Date.now() - outage < 20_000) {
      // a's agent lives on through the outage, and nothing else starts.
      expect(agentsByWorker().get('a')?.size).toBe(1);
      if (!released && Date.now() - outage > 5_000) {
        writeFileSync(releases.b, '');
        released = true;
      }
      await delay(500);
    }
    const seen = await during.stop();
    expect(seen.mostInAll).toBe(2);
    // Either worker may have claimed either task; b's agent ended meanwhile, a's did not.
    const onB = agentLog(log).find((e) => e.event === 'start' && e.worker === 'b')?.task;
    expect(agentLog(log).filter((e) => e.event === 'end')).toEqual([
      { event: 'end', task: onB, worker: 'b' },
    ]);
    await pg.resume();
    writeFileSync(releases.a, '');
    // Work queued once it is back runs too.
    ids.push(await enqueue(worker('a'), 3, 'quickly, after the outage'));
    const tasks = await allDone(db, 3, 90_000);
    expect(tasks.map((t) => [t.id, t.state, t.attempts])).toEqual(
      ids.map((id) => [id, 'completed', 1]),
    );
    // b's work, finished while the database was away, was pushed once it was back.
    const issue = ids.indexOf(onB ?? 0) + 1;
    const remote = join(worker('a').gitRoot, 'me', 'app');
    expect(git(remote, ['log', '--format=%s', `kugetsu/local-me-app-${issue}`])).toContain(
      `task ${onB} by b`,
    );
    // Nobody judged the other dead for the silence everyone shared.
    for (const w of workers) expect(daemonLog(w)).not.toMatch(/silent past its lease/);
    expect(agentLog(log).filter((e) => e.event === 'start')).toHaveLength(3);
  }, 150_000);
});
