/** The store on a real SQLite file: transitions, events and the claim transaction. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../core/store/migrations.js';
import { Store, type NewSession } from '../core/store/store.js';

const owner = { pid: process.pid, start: 'test' };
const claimParams = { owner, maxAgents: 2, availableMemoryMb: null, minFreeMemoryMb: 0 };

function session(n: number): NewSession {
  return {
    issueRef: `h/o/r#${n}`,
    workspaceKey: `h-o-r-${n}`,
    serverName: 'h',
    repoPath: 'o/r',
    worktreePath: `/w/${n}`,
    branch: `kugetsu/h-o-r-${n}`,
    agent: 'command',
  };
}

describe('Store', () => {
  let dir: string;
  let store: Store;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-store-'));
    store = Store.open(join(dir, 'kugetsu.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function enqueue(n: number) {
    return store.enqueueTask(
      {
        kind: 'dev',
        mode: 'start',
        issueRef: `h/o/r#${n}`,
        message: `do ${n}`,
        agent: 'command',
        maxAttempts: 2,
      },
      session(n),
    );
  }

  it('opens in WAL mode with the schema migrated, and reopens without re-migrating', () => {
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    enqueue(1);
    store.close();
    store = Store.open(join(dir, 'kugetsu.db'));
    expect(store.listTasks()).toHaveLength(1);
  });

  it('claims up to the cap in one transaction and marks sessions used', () => {
    for (const n of [1, 2, 3]) enqueue(n);
    const { claimed } = store.claimTasks(claimParams);
    expect(claimed.map((t) => [t.id, t.state, t.attempts])).toEqual([
      [1, 'running', 1],
      [2, 'running', 1],
    ]);
    expect(store.countedSlots()).toBe(2);
    expect(store.getSession('h/o/r#1')?.state).toBe('used');
    expect(store.getTask(3)?.waitReason).toBe('at capacity (2/2 agents running)');
    expect(store.claimTasks(claimParams).claimed).toEqual([]);
  });

  it('releases the slot and records the event when an attempt ends', () => {
    enqueue(1);
    store.claimTasks(claimParams);
    const done = store.finishAttempt(1, null, 0, {
      kind: 'completed',
      result: 'branch x',
      agentSessionId: 'ses',
    });
    expect(done).toMatchObject({ state: 'completed', result: 'branch x' });
    expect(store.countedSlots()).toBe(0);
    expect(store.getSession('h/o/r#1')).toMatchObject({
      state: 'idle',
      agentSessionId: 'ses',
      lastMessage: 'do 1',
    });
    expect(store.listEvents({ unreadOnly: true }).map((e) => e.type)).toEqual([
      'task_queued',
      'task_dequeued',
      'task_completed',
    ]);
  });

  it('retries a failure with backoff, then errors; an interruption gives the attempt back', () => {
    enqueue(1);
    store.claimTasks(claimParams, 1_000);
    const retry = store.finishAttempt(
      1,
      null,
      1,
      { kind: 'failed', error: 'boom', agentSessionId: null, retryDelayMs: 500 },
      null,
      2_000,
    );
    expect(retry).toMatchObject({ state: 'pending', notBefore: 2_500, lastError: 'boom' });
    expect(store.claimTasks(claimParams, 2_400).claimed).toEqual([]);
    expect(store.claimTasks(claimParams, 2_500).claimed.map((t) => t.attempts)).toEqual([2]);
    const interrupted = store.finishAttempt(1, null, null, {
      kind: 'interrupted',
      agentSessionId: null,
    });
    expect(interrupted).toMatchObject({ state: 'pending', mode: 'resume', attempts: 1 });
    expect(store.getSession('h/o/r#1')?.state).toBe('left');
    store.claimTasks(claimParams);
    const failed = store.finishAttempt(1, null, 1, {
      kind: 'failed',
      error: 'again',
      agentSessionId: null,
      retryDelayMs: null,
    });
    expect(failed).toMatchObject({ state: 'error', lastError: 'again', attempts: 2 });
  });

  it('cancels pending tasks at once and flags running ones for their owner', () => {
    enqueue(1);
    enqueue(2);
    store.claimTasks({ ...claimParams, maxAgents: 1 });
    expect(store.cancelTask(2).state).toBe('cancelled');
    const running = store.cancelTask(1);
    expect(running).toMatchObject({ state: 'running', cancelRequested: true });
    expect(() => store.cancelTask(2)).toThrow('already cancelled');
  });

  it('hands the daemon lock to one live process at a time', () => {
    const me = { pid: process.pid, start: '' };
    expect(store.acquireDaemonLock(me)).toEqual({ ok: true });
    expect(store.acquireDaemonLock({ pid: 1, start: '' })).toEqual({ ok: false, holder: me });
    store.releaseDaemonLock(me);
    // A dead holder's lock is taken over.
    store.setMeta('daemon_owner', JSON.stringify({ pid: 2 ** 22 + 1, start: 'gone' }));
    expect(store.acquireDaemonLock(me)).toEqual({ ok: true });
  });
});

describe('Store cleanup', () => {
  it('deletes finished tasks older than the cut-off with their events, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kgt-clean-'));
    const store = Store.open(join(dir, 'kugetsu.db'));
    try {
      const add = (n: number, at: number) =>
        store.enqueueTask(
          {
            kind: 'dev',
            mode: 'start',
            issueRef: `h/o/r#${n}`,
            message: 'x',
            agent: 'command',
            maxAttempts: 1,
          },
          session(n),
          at,
        );
      add(1, 1_000);
      add(2, 1_000);
      add(3, 1_000);
      store.claimTasks(claimParams, 1_000);
      store.finishAttempt(
        1,
        null,
        0,
        { kind: 'completed', result: 'ok', agentSessionId: null },
        null,
        2_000,
      );
      store.finishAttempt(
        2,
        null,
        0,
        { kind: 'completed', result: 'ok', agentSessionId: null },
        null,
        9_000,
      );
      expect(store.deleteFinishedTasks(5_000)).toBe(1);
      expect(store.listTasks().map((t) => [t.id, t.state])).toEqual([
        [2, 'completed'],
        [3, 'pending'],
      ]);
      expect(store.listEvents({ unreadOnly: false }).some((e) => e.taskId === 1)).toBe(false);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
