/** The digest message of a chat, on a real bot store, against a recording stand-in for the Api. */
import type { Api } from 'grammy';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventType, KugetsuEvent } from '../core/domain.js';
import { ChatPacer } from '../bot/chat-pacer.js';
import { DigestPushes } from '../bot/digest-pushes.js';
import type { BotStore } from '../bot/store/bot-store.js';
import { openSqliteBotStore } from '../bot/store/sqlite-bot-store.js';
import { SqliteDb } from '../core/store/sqlite/sqlite-db.js';

const CHAT = 111;
const EDIT_MS = 20;

/** What the chat shows: the digest's text after its last send or edit. */
function recordingApi() {
  const shown = new Map<number, string>();
  const calls: string[] = [];
  const api = {
    sendMessage(_chat: number, text: string) {
      const id = 1000 + shown.size;
      shown.set(id, text);
      calls.push('sendMessage');
      return Promise.resolve({ message_id: id });
    },
    editMessageText(_chat: number, id: number, text: string) {
      shown.set(id, text);
      calls.push('editMessageText');
      return Promise.resolve(true);
    },
  };
  return { api: api as unknown as Api, shown, calls };
}

let nextId = 1;
function event(taskId: number, type: EventType): KugetsuEvent {
  return {
    id: nextId++,
    type,
    taskId,
    issueRef: `h/o/r#${taskId}`,
    message: '',
    data: {},
    createdAt: Date.now(),
    readAt: null,
  };
}

describe('DigestPushes', () => {
  let dir: string;
  let store: BotStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-digest-'));
    const file = join(dir, 'kugetsu.db');
    // A home's database, as the daemon leaves it before the bot opens its own store on it.
    SqliteDb.open(file).close();
    store = openSqliteBotStore(file);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const digests = (api: Api) =>
    new DigestPushes(api, store, new ChatPacer(0), () => undefined, EDIT_MS);

  it('edits again when a task it already lists moves on, though it lists no more tasks', async () => {
    const { api, shown } = recordingApi();
    const pushes = digests(api);
    await pushes.add(CHAT, event(1, 'task_started'), true, Date.now());
    await pushes.add(CHAT, event(2, 'task_started'), false, Date.now());
    await delay(EDIT_MS * 5);
    expect([...shown.values()].at(-1)).toMatch(/^<b>2 tasks changed.*2 started/);
    // The last events change entries already there: same count, new content.
    await pushes.add(CHAT, event(1, 'task_completed'), false, Date.now());
    await pushes.add(CHAT, event(2, 'task_completed'), false, Date.now());
    await delay(EDIT_MS * 5);
    expect([...shown.values()].at(-1)).toMatch(/^<b>2 tasks changed.*<\/b> 2 completed\n/);
  });

  it('coalesces a quick run of events into one edit', async () => {
    const { api, calls } = recordingApi();
    const pushes = digests(api);
    await pushes.add(CHAT, event(1, 'task_queued'), true, Date.now());
    for (const type of ['task_dequeued', 'task_started', 'task_completed'] as const)
      await pushes.add(CHAT, event(1, type), false, Date.now());
    await delay(EDIT_MS * 5);
    expect(calls).toEqual(['sendMessage', 'editMessageText']);
  });

  it('brings a digest left behind by a restart up to date, once', async () => {
    const first = recordingApi();
    const before = new DigestPushes(first.api, store, new ChatPacer(0), () => undefined, 60_000);
    await before.add(CHAT, event(1, 'task_started'), true, Date.now());
    await before.add(CHAT, event(1, 'task_completed'), false, Date.now());
    // The process dies before its edit is due; the next one finds the state behind the message.
    const after = recordingApi();
    await digests(after.api).resume([CHAT]);
    await delay(EDIT_MS * 5);
    expect(after.calls).toEqual(['editMessageText']);
    expect([...after.shown.values()][0]).toMatch(/1 completed\n/);
    await digests(after.api).resume([CHAT]);
    await delay(EDIT_MS * 5);
    expect(after.calls).toEqual(['editMessageText']);
  });
});
