/**
 * The Store seam's contract, exercised through the interface alone: every implementation runs
 * the same suite (SQLite on a real file here; PostgreSQL joins the list with its own server).
 * Claims under contention, attempts settled, cursors, recovery queries, approvals, locks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../core/approvals/approval.js';
import { currentProcess, identify } from '../core/process-info.js';
import type { StoreApi } from '../core/store/store-interface.js';
import type { NewSession, NewTask } from '../core/store/store.js';
import { openSqliteStore } from '../core/store/sqlite/sqlite-store.js';

interface Implementation {
  name: string;
  /** A fresh, empty store, and a way to open more handles on the same data. */
  create(): Promise<{
    store: StoreApi;
    another: () => Promise<StoreApi>;
    cleanup: () => Promise<void>;
  }>;
}

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: 'sqlite',
    create: () => {
      const dir = mkdtempSync(join(tmpdir(), 'kgt-conformance-'));
      const file = join(dir, 'kugetsu.db');
      const handles: StoreApi[] = [];
      const open = (): Promise<StoreApi> => {
        const store = openSqliteStore(file);
        handles.push(store);
        return Promise.resolve(store);
      };
      return open().then((store) => ({
        store,
        another: open,
        cleanup: async () => {
          for (const h of handles) await h.close();
          rmSync(dir, { recursive: true, force: true });
        },
      }));
    },
  },
];

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
  let another: () => Promise<StoreApi>;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ store, another, cleanup } = await impl.create());
  });
  afterEach(() => cleanup());

  const enqueue = (n: number, extra: Partial<NewTask> = {}) =>
    store.tasks.enqueue(...devTask(n, extra));

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
    await store.tasks.enqueue(
      {
        kind: 'pm',
        mode: 'start',
        issueRef: null,
        message: 'plan',
        agent: 'command',
        maxAttempts: 1,
      },
      null,
    );
    const { claimed } = await store.claims.claim({ ...claimParams, maxAgents: 1 });
    expect(claimed.map((t) => t.kind).sort()).toEqual(['dev', 'pm']);
    expect(await store.claims.countedSlots()).toBe(1);
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
});
