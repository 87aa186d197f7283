/** The notifier against a real SQLite file: in order, once per sink, across restarts. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KugetsuEvent } from '../core/domain.js';
import type { NotificationSink } from '../core/notifications/notification-sink.js';
import { Notifier } from '../core/notifications/notifier.js';
import { openSqliteStore, type SqliteStore } from '../core/store/sqlite/sqlite-store.js';
import type { EventRecords } from '../core/store/store-interface.js';

function recordingSink(
  name: string,
  failOn: Set<number> = new Set(),
): NotificationSink & { seen: number[] } {
  const seen: number[] = [];
  return {
    name,
    seen,
    deliver(event: KugetsuEvent) {
      if (failOn.has(event.id)) return Promise.reject(new Error(`sink down at ${event.id}`));
      seen.push(event.id);
      return Promise.resolve();
    },
  };
}

describe('Notifier', () => {
  let dir: string;
  let db: string;
  let store: SqliteStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-notify-'));
    db = join(dir, 'kugetsu.db');
    store = openSqliteStore(db);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const enqueue = async (): Promise<number> =>
    (
      await store.tasks.enqueue(
        {
          kind: 'pm',
          mode: 'start',
          issueRef: null,
          message: 'm',
          agent: 'command',
          maxAttempts: 1,
        },
        null,
      )
    ).id;

  it('starts a new sink at the present instead of replaying history', async () => {
    await enqueue();
    const sink = recordingSink('late');
    const notifier = new Notifier(store.events, [sink], () => undefined);
    await notifier.flush();
    expect(sink.seen).toEqual([]);
    await enqueue();
    await notifier.flush();
    expect(sink.seen).toEqual([2]);
  });

  it('retries from the failed event and never repeats one, across a restart', async () => {
    const errors: string[] = [];
    const first = recordingSink('chat', new Set([2]));
    const notifier = new Notifier(store.events, [first], (_sink, err) => errors.push(String(err)));
    for (let i = 0; i < 3; i += 1) await enqueue();
    await notifier.flush();
    expect(first.seen).toEqual([1]);
    expect(errors).toEqual(['Error: sink down at 2']);

    // A restart: a new process, a new notifier, the same store file.
    await store.close();
    store = openSqliteStore(db);
    const second = recordingSink('chat');
    await new Notifier(store.events, [second], () => undefined).flush();
    expect(second.seen).toEqual([2, 3]);
    await new Notifier(store.events, [second], () => undefined).flush();
    expect(second.seen).toEqual([2, 3]);
  });

  it('keeps each sink on its own cursor', async () => {
    const ok = recordingSink('log');
    const down = recordingSink('chat', new Set([1, 2]));
    const notifier = new Notifier(store.events, [ok, down], () => undefined);
    await enqueue();
    await enqueue();
    await notifier.flush();
    expect(ok.seen).toEqual([1, 2]);
    expect(down.seen).toEqual([]);
    expect(await store.events.cursor('log')).toBe(2);
    expect(await store.events.cursor('chat')).toBe(0);
  });

  it('never rejects while the store is out of reach, and delivers once it is back', async () => {
    const sink = recordingSink('chat');
    let down = true;
    const unreachable = new Error('the database is out of reach: connect ECONNREFUSED');
    // The same store, with every call failing while `down`.
    const gate =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> =>
        down ? Promise.reject(unreachable) : call(...args);
    const events = store.events;
    const flaky: EventRecords = {
      list: gate((filter: Parameters<EventRecords['list']>[0]) => events.list(filter)),
      markRead: gate((now?: number) => events.markRead(now)),
      latestId: gate(() => events.latestId()),
      cursor: gate((sink: string) => events.cursor(sink)),
      setCursor: gate((sink: string, id: number) => events.setCursor(sink, id)),
    };
    const errors: unknown[] = [];
    const notifier = new Notifier(flaky, [sink], (_sink, err) => errors.push(err));
    await enqueue();
    await expect(notifier.flush()).resolves.toBeUndefined();
    await expect(notifier.flush()).resolves.toBeUndefined();
    expect(errors).toEqual([unreachable, unreachable]);
    down = false;
    // Its start, missed while down, is taken now; what comes after is delivered.
    await notifier.flush();
    await enqueue();
    await notifier.flush();
    expect(sink.seen).toEqual([2]);
  });
});
