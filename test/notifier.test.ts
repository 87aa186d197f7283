/** The notifier against a real SQLite file: in order, once per sink, across restarts. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KugetsuEvent } from '../core/domain.js';
import type { NotificationSink } from '../core/notifications/notification-sink.js';
import { Notifier } from '../core/notifications/notifier.js';
import { openSqliteStore, type SqliteStore } from '../core/store/sqlite/sqlite-store.js';

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
});
