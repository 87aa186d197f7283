/**
 * The Store seam's contract, exercised through the interface alone: every implementation runs
 * the same suite — SQLite on a real file, PostgreSQL on a real server this file starts (one for
 * the file, a fresh schema per test). Claims under contention, attempts settled, cursors,
 * recovery queries, approvals, locks; and what only matters once handles are separate
 * connections: claims racing from several of them, events read while others write, failed
 * transactions, migrations run at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { onlyIf } from './helpers/only-if.js';
import type { ApprovalRequest } from '../core/approvals/approval.js';
import { currentProcess, identify } from '../core/process-info.js';
import type { StoreApi } from '../core/store/store-interface.js';
import type { AttemptOutcome, NewSession, NewTask } from '../core/store/records.js';
import { openPostgresStore, PostgresStore } from '../core/store/postgres/postgres-store.js';
import { openSqliteStore } from '../core/store/sqlite/sqlite-store.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

/** A new home nothing has opened yet: the first handles to open it migrate it. */
interface Home {
  open: () => Promise<StoreApi>;
  cleanup: () => Promise<void>;
}

interface Implementation {
  name: string;
  /** Starts what the whole file shares (a server) before the first test; never throws. */
  start?: () => Promise<void>;
  stop?: () => Promise<void>;
  /** A new home; `cleanup` closes every handle opened on it. */
  home(): Promise<Home>;
}

function sqliteImplementation(): Implementation {
  const home = (): Promise<Home> => {
    const dir = mkdtempSync(join(tmpdir(), 'kgt-conformance-'));
    const file = join(dir, 'kugetsu.db');
    const handles: StoreApi[] = [];
    return Promise.resolve({
      open: () => {
        const store = openSqliteStore(file);
        handles.push(store);
        return Promise.resolve(store);
      },
      cleanup: async () => {
        for (const h of handles) await h.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  };
  return { name: 'sqlite', home };
}

/** One embedded PostgreSQL for the file (helpers/postgres.ts); each home a schema of its own. */
function postgresImplementation(): Implementation {
  let started: Promise<TestPostgres> | null = null;
  const home = async (): Promise<Home> => {
    // Every test waits for the one server; if it did not start, every test fails with why.
    const url = await (await (started ??= startPostgres())).schemaUrl();
    const handles: StoreApi[] = [];
    return {
      open: async () => {
        const store = await openPostgresStore(url);
        handles.push(store);
        return store;
      },
      cleanup: async () => {
        for (const h of handles) await h.close();
      },
    };
  };
  return {
    name: 'postgres',
    start: async () => {
      // A failure is reported by each test (vitest would only skip them after a failed hook).
      await (started ??= startPostgres()).catch(() => undefined);
    },
    stop: async () => {
      await (await started?.catch(() => null))?.stop();
    },
    home,
  };
}

const IMPLEMENTATIONS: Implementation[] = [sqliteImplementation(), postgresImplementation()];

const me = currentProcess();
/** A pid no live process has: its slots are orphans. */
const gone = { pid: 2 ** 22 + 12345, start: 'gone' };
const claimParams = { owner: me, maxAgents: 2, availableMemoryMb: null, minFreeMemoryMb: 0 };

function devTask(n: number, extra: Partial<NewTask> = {}): [NewTask, NewSession] {
  return [
    {
      kind: 'dev',
      mode: 'start',
      issueRef: `h/o/r#${n}`,
      message: `do ${n}`,
      agent: 'command',
      maxAttempts: 2,
      ...extra,
    },
    {
      issueRef: `h/o/r#${n}`,
      workspaceKey: `h-o-r-${n}`,
      serverName: 'h',
      repoPath: 'o/r',
      worktreePath: `/w/${n}`,
      branch: `kugetsu/h-o-r-${n}`,
      agent: 'command',
    },
  ];
}

const pmTask: NewTask = {
  kind: 'pm',
  mode: 'start',
  issueRef: null,
  message: 'plan',
  agent: 'command',
  maxAttempts: 1,
};

/** A failed attempt with a retry goes straight back to the queue, so a race goes on. */
const again: AttemptOutcome = {
  kind: 'failed',
  error: 'again',
  agentSessionId: null,
  retryDelayMs: 0,
};

/**
 * Events are written with the claims and releases they tell of, in the order those committed:
 * replayed, they give the slots held after every commit (the most, and at the end).
 */
async function slotsReplayed(store: StoreApi): Promise<{ most: number; held: number }> {
  let held = 0;
  let most = 0;
  for (const e of await store.events.list({ unreadOnly: false })) {
    if (e.type === 'task_dequeued') held += 1;
    if (e.type === 'task_retrying') held -= 1;
    most = Math.max(most, held);
  }
  return { most, held };
}

const bash: ApprovalRequest = {
  kind: 'permission',
  tool: 'Bash',
  category: 'bash',
  subject: 'npm test',
  reason: null,
  options: [],
};

describe.each(IMPLEMENTATIONS)('Store conformance: $name', (impl) => {
  let store: StoreApi;
  /** Another handle on the same data: for SQLite another connection, for PostgreSQL another pool. */
  let another: () => Promise<StoreApi>;
  let cleanup: () => Promise<void>;

  beforeAll(() => impl.start?.(), 60_000);
  afterAll(() => impl.stop?.(), 60_000);
  beforeEach(async () => {
    const home = await impl.home();
    ({ cleanup } = home);
    another = home.open;
    store = await home.open();
  });
  afterEach(() => cleanup());

  const enqueue = (n: number, extra: Partial<NewTask> = {}) =>
    store.tasks.enqueue(...devTask(n, extra));

  it('reports itself healthy when new', async () => {
    expect(await store.check()).toBe('ok');
  });

  it('queues a task with its session, attachments and a task_queued event', async () => {
    const task = await enqueue(1, {
      attachments: [{ name: 'a.png', path: '/s/a.png', mime: 'image/png', size: 3 }],
    });
    expect(task).toMatchObject({ state: 'pending', attempts: 0, issueRef: 'h/o/r#1', usage: null });
    expect(await store.sessions.get('h/o/r#1')).toMatchObject({
      state: 'idle',
      branch: 'kugetsu/h-o-r-1',
    });
    expect(await store.tasks.attachments(task.id)).toEqual([
      { name: 'a.png', path: '/s/a.png', mime: 'image/png', size: 3 },
    ]);
    const [event] = await store.events.list({ unreadOnly: true });
    expect(event).toMatchObject({ type: 'task_queued', taskId: task.id, data: { mode: 'start' } });
    expect(event?.message).toBe(`#${task.id} start queued for h/o/r#1`);
  });

  it('queues once per key, whatever the number of pollers', async () => {
    const handles = [store, await another(), await another()];
    const results = await Promise.all(
      handles.map((h) => h.tasks.enqueueOnce('issue:h/o/r#5', ...devTask(5))),
    );
    expect(results.filter((t) => t !== null)).toHaveLength(1);
    expect(await store.tasks.list()).toHaveLength(1);
  });

  it('never claims past the cap, across handles claiming at once, and says why the rest wait', async () => {
    for (let n = 1; n <= 6; n += 1) await enqueue(n);
    const handles = [store, await another(), await another(), await another()];
    const results = await Promise.all(handles.map((h) => h.claims.claim(claimParams)));
    expect(results.flatMap((r) => r.claimed)).toHaveLength(2);
    expect(await store.claims.countedSlots()).toBe(2);
    const running = await store.tasks.list({ states: ['running'] });
    expect(running.map((t) => t.attempts)).toEqual([1, 1]);
    for (const t of running)
      expect((await store.sessions.get(t.issueRef ?? ''))?.state).toBe('used');
    const waiting = await store.tasks.list({ states: ['pending'] });
    expect(waiting).toHaveLength(4);
    for (const t of waiting) expect(t.waitReason).not.toBeNull();
    const dequeued = (await store.events.list({ unreadOnly: false })).filter(
      (e) => e.type === 'task_dequeued',
    );
    expect(dequeued.map((e) => e.data)).toEqual([
      { attempt: 1, maxAttempts: 2 },
      { attempt: 1, maxAttempts: 2 },
    ]);
  });

  it('runs one task per session at a time, and the PM agent outside the cap', async () => {
    await enqueue(1);
    await store.tasks.enqueue({ ...devTask(1)[0], mode: 'continue' }, null);
    await store.tasks.enqueue(pmTask, null);
    const { claimed } = await store.claims.claim({ ...claimParams, maxAgents: 1 });
    expect(claimed.map((t) => t.kind).sort()).toEqual(['dev', 'pm']);
    expect(await store.claims.countedSlots()).toBe(1);
  });

  it('pages past a head of the queue that cannot run, and claims what waits behind it, in order', async () => {
    // More follow-ups for one busy session, and tasks in backoff, than a claim reads at once.
    await enqueue(1);
    const [busy] = (await store.claims.claim({ ...claimParams, maxAgents: 1 })).claimed;
    for (let i = 0; i < 40; i += 1)
      await store.tasks.enqueue({ ...devTask(1)[0], mode: 'continue' }, null);
    for (let n = 2; n <= 41; n += 1) await enqueue(n);
    const backingOff = await store.claims.claim({ ...claimParams, maxAgents: 41 });
    expect(backingOff.claimed).toHaveLength(40);
    const retry = { ...again, retryDelayMs: 60_000 };
    for (const t of backingOff.claimed)
      await store.tasks.finishAttempt(t.id, null, 1, retry, null, 1_000);
    const behind = [await enqueue(50), await enqueue(51), await enqueue(52)];
    const { claimed, nextWakeAt } = await store.claims.claim(
      { ...claimParams, maxAgents: 3 },
      2_000,
    );
    expect(claimed.map((t) => t.id)).toEqual([behind[0]?.id, behind[1]?.id]);
    expect(nextWakeAt).toBe(61_000);
    const pending = await store.tasks.list({ states: ['pending'] });
    expect(pending.map((t) => t.id)).toEqual([...pending.map((t) => t.id)].sort((a, b) => a - b));
    expect(pending.find((t) => t.issueRef === 'h/o/r#1')?.waitReason).toBe(
      'its session is busy with another task',
    );
    expect(pending.find((t) => t.id === behind[2]?.id)?.waitReason).toBe(
      'at capacity (3/3 agents running)',
    );
    expect(busy?.issueRef).toBe('h/o/r#1');
  });

  it('claims in queue order, one slot at a time, and the PM agent when it comes up', async () => {
    const ids = [(await enqueue(1)).id, (await enqueue(2)).id];
    ids.push((await store.tasks.enqueue(pmTask, null)).id);
    for (let n = 3; n <= 80; n += 1) ids.push((await enqueue(n)).id);
    const order: number[] = [];
    for (;;) {
      const { claimed } = await store.claims.claim({ ...claimParams, maxAgents: 1 });
      if (claimed.length === 0) break;
      order.push(...claimed.map((t) => t.id));
      for (const t of claimed)
        await store.tasks.finishAttempt(t.id, null, 0, {
          kind: 'completed',
          result: 'ok',
          agentSessionId: null,
        });
    }
    // The PM task runs outside the cap: it goes with the first claim, and the rest in order.
    expect(order).toEqual([ids[0], ids[2], ...ids.filter((_, i) => i !== 0 && i !== 2)]);
  });

  it('says why the head of a long queue waits, and forgets what it said of tasks it no longer reads', async () => {
    await enqueue(1);
    for (let i = 0; i < 60; i += 1)
      await store.tasks.enqueue({ ...devTask(1)[0], mode: 'continue' }, null);
    await store.claims.claim({ ...claimParams, maxAgents: 1 });
    // Behind 60 tasks of a busy session and with room for one, this claim read all of them.
    const last = await enqueue(2);
    expect(
      (await store.claims.claim({ ...claimParams, maxAgents: 2 })).claimed.map((t) => t.id),
    ).toEqual([last.id]);
    expect(
      (await store.tasks.list({ states: ['pending'] })).every((t) => t.waitReason !== null),
    ).toBe(true);
    // At capacity, one page is enough: what lies past it had reasons an earlier claim read.
    await store.claims.claim({ ...claimParams, maxAgents: 2 });
    const pending = await store.tasks.list({ states: ['pending'] });
    const said = pending.filter((t) => t.waitReason !== null);
    expect(said.length).toBeGreaterThan(0);
    expect(said.length).toBeLessThan(pending.length);
    expect(said.map((t) => t.id)).toEqual(pending.slice(0, said.length).map((t) => t.id));
  });

  it('settles attempts: completed, retried with backoff, failed for good, cancelled, interrupted', async () => {
    for (let n = 1; n <= 5; n += 1) await enqueue(n);
    const { claimed } = await store.claims.claim({ ...claimParams, maxAgents: 5 });
    const [a, b, c, d, e] = claimed.map((t) => t.id) as [number, number, number, number, number];
    const run = await store.runs.start(a, 1, 'start', '/t/a.log');
    await store.runs.markSpawned(run, a, 4242);
    const usage = {
      inputTokens: 10,
      outputTokens: 2,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 0.01,
    };
    expect(
      await store.tasks.finishAttempt(
        a,
        run,
        0,
        { kind: 'completed', result: 'ok', agentSessionId: 'ag-1' },
        usage,
        100,
      ),
    ).toMatchObject({
      state: 'completed',
      result: 'ok',
      usage,
    });
    expect(await store.sessions.get('h/o/r#1')).toMatchObject({
      state: 'idle',
      agentSessionId: 'ag-1',
      lastMessage: 'do 1',
    });
    expect(await store.runs.list(a)).toMatchObject([
      { pid: 4242, exitCode: 0, outcome: 'completed' },
    ]);
    expect(
      await store.tasks.finishAttempt(
        b,
        null,
        1,
        { kind: 'failed', error: 'boom', agentSessionId: null, retryDelayMs: 5_000 },
        null,
        100,
      ),
    ).toMatchObject({
      state: 'pending',
      notBefore: 5_100,
      lastError: 'boom',
    });
    expect(
      await store.tasks.finishAttempt(c, null, 1, {
        kind: 'failed',
        error: 'no key',
        agentSessionId: null,
        retryDelayMs: null,
      }),
    ).toMatchObject({
      state: 'error',
    });
    expect(
      await store.tasks.finishAttempt(d, null, null, { kind: 'cancelled', agentSessionId: null }),
    ).toMatchObject({ state: 'cancelled' });
    expect((await store.sessions.get('h/o/r#4'))?.state).toBe('left');
    expect(
      await store.tasks.finishAttempt(e, null, null, { kind: 'interrupted', agentSessionId: null }),
    ).toMatchObject({
      state: 'pending',
      mode: 'resume',
      attempts: 0,
    });
    expect(await store.claims.countedSlots()).toBe(0);
    const types = (await store.events.list({ unreadOnly: false })).map((x) => x.type);
    expect(types.filter((t) => !t.startsWith('task_queued') && t !== 'task_dequeued')).toEqual([
      'task_started',
      'task_completed',
      'task_retrying',
      'task_error',
      'task_cancelled',
    ]);
    const completed = (await store.events.list({ unreadOnly: false })).find(
      (x) => x.type === 'task_completed',
    );
    expect(completed?.data).toEqual({ result: 'ok', usage });
  });

  it('cancels a pending task at once and marks a running one; retries a failed one', async () => {
    await enqueue(1);
    await enqueue(2);
    await store.claims.claim({ ...claimParams, maxAgents: 1 });
    expect(await store.tasks.cancel(2)).toMatchObject({ state: 'cancelled' });
    expect(await store.tasks.cancel(1)).toMatchObject({ state: 'running', cancelRequested: true });
    await expect(store.tasks.cancel(2)).rejects.toThrow('task 2 is already cancelled');
    expect(await store.tasks.retry(2)).toMatchObject({ state: 'pending', attempts: 0 });
    await expect(store.tasks.retry(1)).rejects.toThrow('task 1 is running');
  });

  it('finds orphans: running tasks whose owner is gone, with the agent recorded on the slot', async () => {
    await enqueue(1);
    await enqueue(2);
    await store.claims.claim({ ...claimParams, owner: gone, maxAgents: 1 });
    await store.claims.claim({ ...claimParams, maxAgents: 2 });
    await store.claims.recordAgentProcess(1, { pid: 777, start: 's' });
    const orphans = await store.claims.orphans();
    expect(orphans.map((o) => [o.task.id, o.slot?.agent])).toEqual([[1, { pid: 777, start: 's' }]]);
    expect((await store.claims.list()).map((s) => s.taskId)).toEqual([1, 2]);
  });

  it('keeps each sink’s cursor and the unread marks', async () => {
    await enqueue(1);
    await enqueue(2);
    expect(await store.events.cursor('tg')).toBeNull();
    const latest = await store.events.latestId();
    await store.events.setCursor('tg', latest - 1);
    expect(await store.events.cursor('tg')).toBe(latest - 1);
    expect(await store.events.list({ unreadOnly: false, afterId: latest - 1 })).toHaveLength(1);
    expect(await store.events.markRead()).toBe(2);
    expect(await store.events.list({ unreadOnly: true })).toEqual([]);
  });

  it('deletes a session only when it is not in use, cancelling what waits for it', async () => {
    await enqueue(1);
    await store.tasks.enqueue({ ...devTask(1)[0], mode: 'continue' }, null);
    await store.claims.claim({ ...claimParams, maxAgents: 1 });
    await expect(store.sessions.delete('h/o/r#1')).rejects.toThrow('is in use');
    await store.tasks.finishAttempt(1, null, 0, {
      kind: 'completed',
      result: 'ok',
      agentSessionId: null,
    });
    await store.sessions.delete('h/o/r#1');
    expect(await store.sessions.get('h/o/r#1')).toBeNull();
    expect((await store.tasks.get(2))?.state).toBe('cancelled');
  });

  it('deletes finished tasks with their events, and keeps the rest', async () => {
    await enqueue(1);
    await enqueue(2);
    await store.claims.claim({ ...claimParams, maxAgents: 1 });
    await store.tasks.finishAttempt(
      1,
      null,
      0,
      { kind: 'completed', result: 'ok', agentSessionId: null },
      null,
      50,
    );
    expect(await store.tasks.deleteFinished(100)).toBe(1);
    expect((await store.tasks.list()).map((t) => t.id)).toEqual([2]);
    expect((await store.events.list({ unreadOnly: false })).every((e) => e.taskId === 2)).toBe(
      true,
    );
  });

  it('resolves an approval with the first answer only, and closes open ones when the attempt ends', async () => {
    await enqueue(1);
    await store.claims.claim(claimParams);
    const first = await store.approvals.open(1, 'claude', bash, Date.now() + 60_000);
    const by = { channel: 'cli' as const, who: 'root' };
    const answers = await Promise.all([
      store.approvals.resolve(first.id, { decision: 'allow', scope: 'task', by }),
      (await another()).approvals.resolve(first.id, { decision: 'deny', message: 'no', by }),
    ]);
    expect(answers.filter((a) => a.won)).toHaveLength(1);
    expect(await store.approvals.grants(1)).toEqual(
      answers[0]?.won === true ? new Set(['bash']) : new Set(),
    );
    const second = await store.approvals.open(1, 'claude', bash, Date.now() + 60_000);
    expect(await store.approvals.hasOpen(1)).toBe(true);
    await store.tasks.finishAttempt(1, null, null, { kind: 'cancelled', agentSessionId: null });
    expect(await store.approvals.get(second.id)).toMatchObject({
      state: 'expired',
      answer: 'the attempt ended',
    });
    expect(await store.approvals.list()).toEqual([]);
  });

  it('holds one daemon lock per home; a dead holder’s is taken over', async () => {
    expect(await store.locks.acquireDaemon(gone)).toEqual({ ok: true });
    expect(await store.locks.daemonOwner()).toBeNull();
    expect(await store.locks.acquireDaemon(me)).toEqual({ ok: true });
    const other = identify(process.ppid);
    expect(await (await another()).locks.acquireDaemon(other)).toMatchObject({ ok: false });
    await store.locks.releaseDaemon(other);
    expect(await store.locks.daemonOwner()).toEqual(me);
    await store.locks.releaseDaemon(me);
    expect(await store.locks.daemonOwner()).toBeNull();
  });

  it('keeps servers (the first is the default), intake repositories and meta facts', async () => {
    const server = {
      name: 'a',
      kind: 'git' as const,
      url: 'file:///g',
      host: null,
      apiUrl: null,
      tokenEnv: null,
      isDefault: false,
    };
    await store.servers.add(server);
    await store.servers.add({ ...server, name: 'b' });
    await expect(store.servers.add(server)).rejects.toThrow('already exists');
    expect((await store.servers.list()).map((s) => [s.name, s.isDefault])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    await store.servers.setDefault('b');
    expect((await store.servers.get('b'))?.isDefault).toBe(true);
    const repo = await store.intake.upsert({
      serverName: 'a',
      repoPath: 'o/r',
      label: 'kugetsu',
      mention: '@kugetsu',
    });
    expect(repo).toMatchObject({ serverName: 'a', repoPath: 'o/r', issuesEtag: null });
    await store.intake.saveCursor('a', 'o/r', {
      issuesEtag: 'e1',
      issuesLastModified: null,
      commentsEtag: null,
      commentsLastModified: null,
      commentsSince: 5,
    });
    expect((await store.intake.list())[0]).toMatchObject({ issuesEtag: 'e1', commentsSince: 5 });
    await store.meta.set('k', 'v');
    expect(await store.meta.get('k')).toBe('v');
    await store.meta.delete('k');
    expect(await store.meta.get('k')).toBeNull();
  });

  it('keeps API tokens by hash, revokes them, and spends a login code once, before it expires', async () => {
    const token = { name: 'phone', readOnly: true, createdAt: 1000 };
    expect(await store.apiTokens.create(token, 'aa11')).toEqual(token);
    await store.apiTokens.create({ name: 'laptop', readOnly: false, createdAt: 2000 }, 'bb22');
    await expect(store.apiTokens.create(token, 'cc33')).rejects.toThrow('already exists');
    expect((await store.apiTokens.list()).map((t) => [t.name, t.readOnly])).toEqual([
      ['laptop', false],
      ['phone', true],
    ]);
    expect(await (await another()).apiTokens.findByHash('aa11')).toEqual({
      ...token,
      hash: 'aa11',
    });
    expect(await store.apiTokens.findByHash('cc33')).toBeNull();
    expect(await store.apiTokens.revoke('phone')).toBe(true);
    expect(await store.apiTokens.revoke('phone')).toBe(false);
    expect(await store.apiTokens.findByHash('aa11')).toBeNull();

    await store.apiTokens.addLoginCode('c0de', true, 5000);
    await store.apiTokens.addLoginCode('01d0', false, 3000);
    const handles = [store, await another(), await another()];
    const redeemed = await Promise.all(
      handles.map((h) => h.apiTokens.redeemLoginCode('c0de', 4000)),
    );
    expect(redeemed.filter((r) => r !== null)).toEqual([{ readOnly: true }]);
    expect(await store.apiTokens.redeemLoginCode('01d0', 4000)).toBeNull();
  });

  it('sums the day’s budget tokens and lists sessions with their newest task and usage', async () => {
    await enqueue(1);
    await store.claims.claim(claimParams);
    const run = await store.runs.start(1, 1, 'start', '/t.log', 1_000);
    await store.runs.recordUsage(run, {
      inputTokens: 100,
      outputTokens: 20,
      cacheReadTokens: 5,
      cacheWriteTokens: 3,
      costUsd: null,
    });
    expect(await store.runs.budgetTokensSince(0)).toBe(123);
    expect(await store.runs.budgetTokensSince(2_000)).toBe(0);
    const [row] = await store.sessions.listWithTask({ all: false });
    expect(row).toMatchObject({
      session: { issueRef: 'h/o/r#1', state: 'used' },
      task: { id: 1, state: 'running' },
    });
    expect(row?.usage?.inputTokens).toBe(100);
  });
  it('never holds more slots than the cap while many handles claim and release at once', async () => {
    const cap = 3;
    for (let n = 1; n <= 8; n += 1) await enqueue(n);
    const handles = [store, ...(await Promise.all(Array.from({ length: 7 }, () => another())))];
    let claims = 0;
    await Promise.all(
      handles.map(async (h) => {
        for (let i = 0; i < 50; i += 1) {
          const { claimed } = await h.claims.claim({ ...claimParams, maxAgents: cap });
          claims += claimed.length;
          for (const t of claimed) await h.tasks.finishAttempt(t.id, null, 1, again);
        }
      }),
    );
    const { most, held } = await slotsReplayed(store);
    expect(most).toBeLessThanOrEqual(cap);
    expect(held).toBe(0);
    expect(claims).toBeGreaterThan(50);
    expect(await store.claims.countedSlots()).toBe(0);
    // PostgreSQL: 400 claims and ~200 releases, one at a time under the queue lock: 2–4 s on
    // two busy cores.
  }, 20_000);

  it('shows events in id order as they commit: a reader following ids misses none', async () => {
    const writers = [store, await another(), await another(), await another()];
    const reader = await another();
    let writing = true;
    let cursor = 0;
    const seen: number[] = [];
    const following = (async () => {
      for (;;) {
        const last = !writing;
        for (const e of await reader.events.list({ unreadOnly: false, afterId: cursor })) {
          seen.push(e.id);
          cursor = e.id;
        }
        if (last) return;
      }
    })();
    await Promise.all(
      writers.map(async (h, w) => {
        for (let i = 1; i <= 25; i += 1) await h.tasks.enqueue(...devTask(w * 100 + i));
      }),
    );
    writing = false;
    await following;
    const all = (await store.events.list({ unreadOnly: false })).map((e) => e.id);
    expect(all).toHaveLength(100);
    expect(seen).toEqual(all);
  });

  it('leaves nothing half-written when a transaction fails midway, and stays usable', async () => {
    await enqueue(1);
    const events = await store.events.list({ unreadOnly: false });
    // Issue 2's session would take issue 1's workspace: it cannot be written.
    const [task, session] = devTask(2, {
      attachments: [{ name: 'a.png', path: '/s/a.png', mime: 'image/png', size: 3 }],
    });
    const clash = { ...session, workspaceKey: 'h-o-r-1' };
    // More failures than a pool has connections: each must give its connection back.
    for (let i = 0; i < 12; i += 1) {
      await expect(store.tasks.enqueueOnce('issue:h/o/r#2', task, clash)).rejects.toThrow();
      await expect(store.tasks.enqueue(task, clash)).rejects.toThrow();
    }
    expect((await store.tasks.list()).map((t) => t.issueRef)).toEqual(['h/o/r#1']);
    expect(await store.sessions.get('h/o/r#2')).toBeNull();
    expect(await store.tasks.attachmentPaths()).toEqual([]);
    expect(await store.events.list({ unreadOnly: false })).toEqual(events);
    // Nor was the key kept: once the session can be written, the issue is queued after all.
    expect(await store.tasks.enqueueOnce('issue:h/o/r#2', task, session)).toMatchObject({
      issueRef: 'h/o/r#2',
    });
    expect(await store.tasks.enqueueOnce('issue:h/o/r#2', task, session)).toBeNull();
  });

  it('migrates a new home once when several handles open it at once', async () => {
    const home = await impl.home();
    try {
      const handles = await Promise.all(Array.from({ length: 4 }, () => home.open()));
      const [first, ...others] = handles as [StoreApi, ...StoreApi[]];
      const task = await first.tasks.enqueue(...devTask(1));
      for (const h of others) expect((await h.tasks.get(task.id))?.state).toBe('pending');
    } finally {
      await home.cleanup();
    }
  });
  // ---- several machines on one database ----

  const done: AttemptOutcome = { kind: 'completed', result: 'ok', agentSessionId: null };
  const worker = (name: string, maxAgents = 2) => ({
    name,
    host: `${name}.lan`,
    pid: 10,
    maxAgents,
  });

  it('heartbeats workers and finds the ones silent past their lease', async () => {
    await store.workers.heartbeat(worker('w1'), 1_000);
    await store.workers.heartbeat(worker('w2', 3), 5_000);
    expect(await store.workers.list()).toEqual([
      { name: 'w1', host: 'w1.lan', pid: 10, maxAgents: 2, lastSeen: 1_000, taskIds: [] },
      { name: 'w2', host: 'w2.lan', pid: 10, maxAgents: 3, lastSeen: 5_000, taskIds: [] },
    ]);
    expect((await store.workers.expired(3_000, 6_000)).map((w) => w.name)).toEqual(['w1']);
    expect(await store.workers.expired(3_000, 4_000)).toEqual([]);
    // A restarted worker beats with its new pid and cap; the lease runs from the new beat.
    await (await another()).workers.heartbeat({ ...worker('w1', 4), pid: 11 }, 6_000);
    expect(await store.workers.expired(3_000, 8_000)).toEqual([]);
    expect((await store.workers.list())[0]).toMatchObject({ pid: 11, maxAgents: 4 });
    await enqueue(1);
    await store.claims.claim({ ...claimParams, worker: 'w2' });
    expect((await store.workers.list()).map((w) => w.taskIds)).toEqual([[], [1]]);
  });

  it('never exceeds a worker’s cap or the global cap while two workers claim from four handles', async () => {
    const caps = { w1: 2, w2: 3 };
    const global = 4;
    for (let n = 1; n <= 12; n += 1) await enqueue(n);
    const handles = [store, ...(await Promise.all(Array.from({ length: 3 }, () => another())))];
    // Every committed state a watcher sees must be within both caps.
    const watcher = await another();
    let racing = true;
    let most = { w1: 0, w2: 0, all: 0 };
    const watching = (async () => {
      while (racing) {
        const held = Object.fromEntries(
          (await watcher.workers.list()).map((w) => [w.name, w.taskIds.length]),
        );
        const w1 = held.w1 ?? 0;
        const w2 = held.w2 ?? 0;
        most = {
          w1: Math.max(most.w1, w1),
          w2: Math.max(most.w2, w2),
          all: Math.max(most.all, w1 + w2),
        };
      }
    })();
    const fences: number[] = [];
    await Promise.all(
      handles.map(async (h, i) => {
        const name = i % 2 === 0 ? 'w1' : 'w2';
        await h.workers.heartbeat(worker(name, caps[name]), Date.now());
        for (let round = 0; round < 25; round += 1) {
          const { claimed } = await h.claims.claim({
            ...claimParams,
            worker: name,
            maxAgents: caps[name],
            globalMaxAgents: global,
          });
          for (const t of claimed) {
            fences.push(t.fence);
            await h.tasks.finishAttempt(t.id, null, 1, again, null, Date.now(), t.fence);
          }
        }
      }),
    );
    racing = false;
    await watching;
    expect(most.w1).toBeLessThanOrEqual(caps.w1);
    expect(most.w2).toBeLessThanOrEqual(caps.w2);
    expect(most.all).toBeLessThanOrEqual(global);
    // Replayed in commit order, the claims and releases never held more than the global cap.
    const { most: peak, held } = await slotsReplayed(store);
    expect(peak).toBeLessThanOrEqual(global);
    expect(peak).toBeGreaterThan(caps.w2);
    expect(held).toBe(0);
    expect(new Set(fences).size).toBe(fences.length);
    expect(fences.length).toBeGreaterThan(25);
  }, 30_000);

  it('hands each claim a growing fencing token, and refuses writes with a stale one', async () => {
    await enqueue(1);
    const [first] = (await store.claims.claim({ ...claimParams, worker: 'w1' })).claimed;
    const stale = first?.fence ?? 0;
    expect(await store.claims.isCurrent(1, stale)).toBe(true);
    expect(await store.claims.isCurrent(1, stale + 1)).toBe(false);
    await store.claims.recoverWorker('w1');
    expect(await store.claims.isCurrent(1, stale)).toBe(false);
    const [second] = (await store.claims.claim({ ...claimParams, worker: 'w2' })).claimed;
    const fence = second?.fence ?? 0;
    expect(fence).toBeGreaterThan(stale);
    const pr = { number: 7, url: 'https://h/o/r/pull/7', state: 'open' as const };
    // The worker that lost the task comes back: it settles nothing and publishes nothing.
    await expect(
      store.tasks.finishAttempt(1, null, 0, done, null, Date.now(), stale),
    ).rejects.toThrow(`task 1 moved on: claim ${stale} no longer holds it`);
    await expect(store.sessions.setPullRequest('h/o/r#1', pr, stale)).rejects.toThrow(
      `session h/o/r#1 moved on: claim ${stale} no longer holds it`,
    );
    expect(await store.tasks.get(1)).toMatchObject({ state: 'running', attempts: 1 });
    expect((await store.sessions.get('h/o/r#1'))?.pullRequest).toBeNull();
    expect(await store.claims.isCurrent(1, fence)).toBe(true);
    // The current holder does both.
    await store.sessions.setPullRequest('h/o/r#1', pr, fence);
    expect((await store.sessions.get('h/o/r#1'))?.pullRequest).toEqual(pr);
    expect(
      await store.tasks.finishAttempt(1, null, 0, done, null, Date.now(), fence),
    ).toMatchObject({ state: 'completed' });
    expect(await store.claims.isCurrent(1, fence)).toBe(false);
  });

  it('recovers a dead worker’s running tasks as crash recovery does, and no one else’s', async () => {
    for (let n = 1; n <= 3; n += 1) await enqueue(n);
    await store.claims.claim({ ...claimParams, worker: 'w1', maxAgents: 2 });
    await store.claims.claim({ ...claimParams, worker: 'w2', maxAgents: 2 });
    const run = await store.runs.start(1, 1, 'start', '/t/1.log');
    await store.tasks.cancel(2);
    const recovered = await (await another()).claims.recoverWorker('w1', 5_000);
    expect(recovered.map((t) => [t.id, t.state, t.mode, t.attempts])).toEqual([
      [1, 'pending', 'resume', 0],
      [2, 'cancelled', 'start', 1],
    ]);
    expect(await store.runs.list(1)).toMatchObject([{ id: run, outcome: 'interrupted' }]);
    expect((await store.sessions.get('h/o/r#1'))?.state).toBe('left');
    expect((await store.claims.list()).map((s) => s.taskId)).toEqual([3]);
    expect((await store.tasks.get(3))?.state).toBe('running');
    expect(await store.claims.recoverWorker('w1')).toEqual([]);
    // Recovery tells of what it ends as the attempt's own end would: an interruption, nothing.
    const types = (await store.events.list({ unreadOnly: false })).map((e) => e.type);
    expect(types.filter((t) => t === 'task_cancelled')).toHaveLength(1);
  });

  it('judges by pid only the orphans of this worker, and of no worker', async () => {
    for (let n = 1; n <= 3; n += 1) await enqueue(n);
    await store.claims.claim({ ...claimParams, owner: gone, worker: 'w1', maxAgents: 1 });
    await store.claims.claim({ ...claimParams, owner: gone, worker: 'w2', maxAgents: 1 });
    await store.claims.claim({ ...claimParams, owner: gone, maxAgents: 3 });
    const ids = async (worker?: string) =>
      (await store.claims.orphans(worker)).map((o) => o.task.id);
    expect(await ids()).toEqual([1, 2, 3]);
    expect(await ids('w1')).toEqual([1, 3]);
  });

  it('keeps a session’s follow-ups on the worker that holds its worktree while it lives', async () => {
    const now = 1_000_000;
    await enqueue(1);
    await store.workers.heartbeat(worker('w1'), now);
    await store.workers.heartbeat(worker('w2'), now);
    const w1 = { ...claimParams, worker: 'w1', leaseMs: 30_000 };
    const w2 = { ...claimParams, worker: 'w2', leaseMs: 30_000 };
    const [task] = (await store.claims.claim(w1, now)).claimed;
    expect(await store.sessions.workerOf('h/o/r#1')).toBe('w1');
    await store.tasks.finishAttempt(1, null, 0, done, null, now, task?.fence);
    await store.tasks.enqueue({ ...devTask(1)[0], mode: 'continue' }, null, now);
    expect((await store.claims.claim(w2, now + 1_000)).claimed).toEqual([]);
    expect((await store.tasks.get(2))?.waitReason).toBe("its session's worktree is on worker w1");
    expect((await store.claims.claim(w1, now + 1_000)).claimed.map((t) => t.id)).toEqual([2]);
    await store.tasks.finishAttempt(2, null, 0, done, null, now + 2_000);
    // Moved by hand, the session's next follow-up runs on the worker it was moved to.
    await store.sessions.setWorker('h/o/r#1', 'w2');
    await store.tasks.enqueue({ ...devTask(1)[0], mode: 'continue' }, null, now);
    expect((await store.claims.claim(w1, now + 3_000)).claimed).toEqual([]);
    // Once w2 is silent past the lease, its sessions are anyone's.
    expect((await store.claims.claim(w1, now + 31_000)).claimed.map((t) => t.id)).toEqual([3]);
    expect(await store.sessions.workerOf('h/o/r#1')).toBe('w1');
    await expect(store.sessions.setWorker('h/o/r#9', 'w1')).rejects.toThrow(
      'session h/o/r#9 not found',
    );
    // One machine (no worker named) claims as before and leaves sessions to any.
    await enqueue(4);
    expect((await store.claims.claim(claimParams)).claimed.map((t) => t.id)).toEqual([4]);
    expect(await store.sessions.workerOf('h/o/r#4')).toBeNull();
  });

  it('holds a lease for one holder at a time, and hands it over after its term', async () => {
    const handles = [store, ...(await Promise.all(Array.from({ length: 3 }, () => another())))];
    const won = await Promise.all(
      handles.map((h, i) => h.locks.acquireLease('bot', `d${i}`, 1_000, 10_000)),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
    const first = `d${won.indexOf(true)}`;
    const other = first === 'd0' ? 'd1' : 'd0';
    expect(await store.locks.leaseHolder('bot', 10_500)).toBe(first);
    expect(await store.locks.acquireLease('bot', other, 1_000, 10_500)).toBe(false);
    // Renewed by its holder, the term runs from the renewal.
    expect(await store.locks.acquireLease('bot', first, 1_000, 10_900)).toBe(true);
    expect(await store.locks.acquireLease('bot', other, 1_000, 11_500)).toBe(false);
    expect(await store.locks.leaseHolder('bot', 11_900)).toBeNull();
    expect(await store.locks.acquireLease('bot', other, 1_000, 11_900)).toBe(true);
    expect(await store.locks.leaseHolder('bot', 12_000)).toBe(other);
    // Another lease is another name; only the holder gives one up.
    expect(await store.locks.acquireLease('api', first, 1_000, 12_000)).toBe(true);
    await store.locks.releaseLease('bot', first);
    expect(await store.locks.leaseHolder('bot', 12_000)).toBe(other);
    await store.locks.releaseLease('bot', other);
    expect(await store.locks.leaseHolder('bot', 12_000)).toBeNull();
    expect(await store.locks.acquireLease('bot', first, 1_000, 12_000)).toBe(true);
  });

  onlyIf(impl.name === 'postgres')(
    'lets go of a holder frozen inside a transaction, so claims elsewhere go on',
    async () => {
      if (!(store instanceof PostgresStore)) throw new Error('not PostgreSQL');
      await store.tasks.enqueue(...devTask(1));
      // Another process, stopped (SIGSTOP, a frozen machine) while it holds the queue lock.
      const frozen = await openPostgresStore(store.db.url, { idleInTransactionMs: 500 });
      try {
        let thaw = (): void => undefined;
        let holds = false;
        const holding = frozen.db
          .locked('queue', async () => {
            holds = true;
            await new Promise<void>((resolve) => (thaw = resolve));
          })
          .then(
            () => 'committed',
            (err: unknown) => String(err),
          );
        while (!holds) await new Promise((r) => setTimeout(r, 10));
        const { claimed } = await store.claims.claim(claimParams);
        expect(claimed.map((t) => t.issueRef)).toEqual(['h/o/r#1']);
        thaw();
        // The server ended the frozen session: what it did in there never commits.
        expect(await holding).toMatch(/out of reach|terminat/i);
      } finally {
        await frozen.close();
      }
    },
  );

  onlyIf(impl.name === 'postgres')(
    'wakes a listener on another pool when work is queued, not when it is rolled back, and after a drop',
    async () => {
      const listener = await another();
      if (!(listener instanceof PostgresStore)) throw new Error('not PostgreSQL');
      let wakes = 0;
      const subscription = await listener.onWake(() => (wakes += 1), { retryMs: 50 });
      try {
        const woken = async (before: number): Promise<void> => {
          const deadline = Date.now() + 5_000;
          while (wakes === before && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 10));
          expect(wakes).toBeGreaterThan(before);
        };
        await store.tasks.enqueue(...devTask(1));
        await woken(0);
        const [task, session] = devTask(2);
        const settledWakes = wakes;
        await expect(
          store.tasks.enqueue(task, { ...session, workspaceKey: 'h-o-r-1' }),
        ).rejects.toThrow();
        await new Promise((r) => setTimeout(r, 300));
        expect(wakes).toBe(settledWakes);
        // The listener's connection is cut: it comes back, wakes once, and hears the next.
        if (!(store instanceof PostgresStore)) throw new Error('not PostgreSQL');
        const cut = await store.db.sql.all(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = 'kugetsu-wake'`,
        );
        expect(cut).toHaveLength(1);
        await woken(settledWakes);
        const back = wakes;
        await store.tasks.enqueue(...devTask(3));
        await woken(back);
      } finally {
        await subscription.close();
      }
    },
  );
});
