/**
 * The BotStore's contract, through the interface alone, on SQLite (a real file) and PostgreSQL
 * (a real server this file starts, a fresh schema per test): pushes, keyed state, topics and
 * pairing; and what only matters once handles are separate connections — a pending request
 * taken by exactly one of many racing takers, a push recorded twice from two handles, a failed
 * transaction leaving nothing, migrations run at once.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_PENDING_PAIRINGS,
  PAIRING_TTL_MS,
  approvePairing,
  approvedUsers,
  requestPairing,
  revokeUser,
} from '../bot/pairing.js';
import { BOT_MIGRATIONS } from '../bot/store/bot-migrations.js';
import type { BotStore, ChatDelivery } from '../bot/store/bot-store.js';
import { BOT_PG_MIGRATIONS } from '../bot/store/postgres-bot-migrations.js';
import { openPostgresBotStore } from '../bot/store/postgres-bot-store.js';
import { openSqliteBotStore } from '../bot/store/sqlite-bot-store.js';
import { SqliteDb } from '../core/store/sqlite/sqlite-db.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

/** A new home whose core schema exists; the bot's handles open (and migrate) it. */
interface Home {
  open(): Promise<BotStore>;
  /** The bot's recorded schema version. */
  version(): Promise<number>;
  /** Records a bot schema version past this kugetsu's, as a newer kugetsu would. */
  bumpVersion(): Promise<void>;
  cleanup(): Promise<void>;
}

interface Implementation {
  name: string;
  migrations: number;
  start?: () => Promise<void>;
  stop?: () => Promise<void>;
  home(): Promise<Home>;
}

function sqlite(): Implementation {
  return {
    name: 'sqlite',
    migrations: BOT_MIGRATIONS.length,
    home: () => {
      const dir = mkdtempSync(join(tmpdir(), 'kgt-bot-conformance-'));
      const file = join(dir, 'kugetsu.db');
      SqliteDb.open(file).close();
      const handles: BotStore[] = [];
      const onFile = <T>(fn: (db: Database.Database) => T): T => {
        const db = new Database(file);
        try {
          return fn(db);
        } finally {
          db.close();
        }
      };
      return Promise.resolve({
        // Opening throws at once; a rejection is what the contract's callers see.
        open: () =>
          Promise.resolve().then(() => {
            const store = openSqliteBotStore(file);
            handles.push(store);
            return store;
          }),
        version: () =>
          Promise.resolve(
            onFile(
              (db) =>
                (db.prepare('SELECT version FROM bot_schema').get() as { version: number }).version,
            ),
          ),
        bumpVersion: () => {
          onFile((db) => db.prepare('UPDATE bot_schema SET version = version + 1').run());
          return Promise.resolve();
        },
        cleanup: async () => {
          for (const h of handles) await h.close();
          rmSync(dir, { recursive: true, force: true });
        },
      });
    },
  };
}

function postgres(): Implementation {
  let started: Promise<TestPostgres> | null = null;
  return {
    name: 'postgres',
    migrations: BOT_PG_MIGRATIONS.length,
    // A failure is reported by each test (vitest would only skip them after a failed hook).
    start: async () => void (await (started ??= startPostgres()).catch(() => undefined)),
    stop: async () => await (await started?.catch(() => null))?.stop(),
    home: async () => {
      const url = await (await (started ??= startPostgres())).schemaUrl();
      const handles: BotStore[] = [];
      const query = async <T>(sql: string): Promise<T[]> => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          return (await client.query(sql)).rows as T[];
        } finally {
          await client.end();
        }
      };
      return {
        open: async () => {
          const store = await openPostgresBotStore(url);
          handles.push(store);
          return store;
        },
        version: async () =>
          (await query<{ v: number }>('SELECT MAX(version) AS v FROM bot_schema_migrations'))[0]
            ?.v ?? 0,
        bumpVersion: async () =>
          void (await query(
            'INSERT INTO bot_schema_migrations SELECT MAX(version) + 1, 0 FROM bot_schema_migrations',
          )),
        cleanup: async () => {
          for (const h of handles) await h.close();
        },
      };
    },
  };
}

const push = { chatId: 10, taskId: 7, issueRef: 'h/o/r#1' };
const started = (eventId: number, messageId: number): ChatDelivery => ({
  ...push,
  eventId,
  eventType: 'task_started',
  messageId,
});

describe.each([sqlite(), postgres()])('BotStore conformance: $name', (impl) => {
  let home: Home;
  let bot: BotStore;
  beforeAll(() => impl.start?.(), 60_000);
  afterAll(() => impl.stop?.(), 60_000);
  beforeEach(async () => {
    home = await impl.home();
    bot = await home.open();
  }, 60_000);
  afterEach(() => home.cleanup());

  it('records a digest line with the digest, and follows the latest start of a task', async () => {
    await bot.deliveries.record(started(1, 100));
    await bot.deliveries.recordInDigest(
      { ...push, eventId: 2, eventType: 'task_completed', messageId: 200 },
      { key: 'digest:10', value: '{"messageId":200}' },
    );
    expect(await bot.state.get('digest:10')).toBe('{"messageId":200}');
    // A digest line is no message of the task's own.
    expect(await bot.deliveries.statusMessage(10, 7)).toMatchObject({ messageId: 100 });
    expect(await bot.deliveries.byMessage(10, 200)).toBeNull();
    expect(await bot.deliveries.recentTasks(10, 0)).toEqual([7]);

    await bot.deliveries.record(started(3, 300));
    expect((await bot.deliveries.started(7)).map((d) => d.messageId)).toEqual([300]);
    // Recorded again (a redelivery after a restart): nothing changes.
    await bot.deliveries.record(started(3, 999));
    expect(await bot.deliveries.isDelivered(3, 10)).toBe(true);
    expect((await bot.deliveries.ofEvent(3)).map((d) => d.messageId)).toEqual([300]);
  });

  it('finds an approval’s request by its message, and a reply’s task by the first push', async () => {
    const request = { ...push, eventType: 'approval_requested', approvalId: 3 } as const;
    await bot.deliveries.record({ ...request, eventId: 5, messageId: 101 });
    await bot.deliveries.record({ ...request, eventId: 5, chatId: 20, messageId: 7 });
    await bot.deliveries.record({
      ...push,
      eventId: 6,
      eventType: 'approval_resolved',
      messageId: 101,
      approvalId: 3,
      kind: 'edit',
    });
    expect(await bot.deliveries.approvalAt(10, 101)).toBe(3);
    expect(await bot.deliveries.approvalAt(10, 102)).toBeNull();
    expect((await bot.deliveries.ofApprovalRequest(3)).map((d) => d.chatId)).toEqual([10, 20]);
    expect(await bot.deliveries.byMessage(10, 101)).toEqual({
      ...request,
      eventId: 5,
      messageId: 101,
    });
    expect(await bot.deliveries.statusMessage(10, 8)).toBeNull();
  });

  it('lists state by prefix, oldest first, and moves pairing state in one step', async () => {
    await bot.state.set('pairing:B', 'b', 2);
    await bot.state.set('pairing:A', 'a', 2);
    await bot.state.set('pairing_other', 'x', 1);
    await bot.state.set('pairing:C', 'c', 1);
    expect((await bot.state.list('pairing:')).map((e) => e.key)).toEqual([
      'pairing:C',
      'pairing:A',
      'pairing:B',
    ]);
    await bot.state.move('pairing:A', { key: 'approved_user:1', value: 'x' }, 3);
    expect(await bot.state.get('pairing:A')).toBeNull();
    expect(await bot.state.list('approved_user:')).toEqual([
      { key: 'approved_user:1', value: 'x', updatedAt: 3 },
    ]);
    await bot.state.delete('pairing:B');
    expect(await bot.state.get('pairing:B')).toBeNull();
  });

  it('leaves nothing of a digest line whose push could not be recorded', async () => {
    // A value no engine can store: the push fails after the digest's state was written.
    const broken = { ...started(4, 0), messageId: {} as unknown as number };
    await expect(async () =>
      bot.deliveries.recordInDigest(broken, { key: 'digest:10', value: 'new' }),
    ).rejects.toThrow();
    expect(await bot.state.get('digest:10')).toBeNull();
    expect(await bot.deliveries.isDelivered(4, 10)).toBe(false);
  });

  it('knows open topics, and a topic by its thread', async () => {
    await bot.topics.save({ chatId: -1, issueRef: 'h/o/r#1', threadId: 5, name: 'n' }, 1);
    await bot.topics.save({ chatId: -1, issueRef: 'h/o/r#2', threadId: 6, name: 'm' }, 2);
    await bot.topics.setClosed(-1, 'h/o/r#2', 3);
    expect((await bot.topics.open()).map((t) => t.issueRef)).toEqual(['h/o/r#1']);
    expect(await bot.topics.byThread(-1, 6)).toMatchObject({ issueRef: 'h/o/r#2', closedAt: 3 });
    // Made anew (the old one was deleted in Telegram): open again, on its new thread.
    await bot.topics.save({ chatId: -1, issueRef: 'h/o/r#2', threadId: 9, name: 'm' }, 4);
    expect(await bot.topics.get(-1, 'h/o/r#2')).toMatchObject({ threadId: 9, closedAt: null });
  });

  it('hands a pending request to exactly one of many racing takers on two handles', async () => {
    const other = await home.open();
    for (let round = 0; round < 10; round += 1) {
      await bot.state.set(`request:${round}`, `ask ${round}`);
      const takers = Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? bot : other).state.take(`request:${round}`),
      );
      const got = (await Promise.all(takers)).filter((v) => v !== null);
      expect(got).toEqual([`ask ${round}`]);
    }
    expect(await other.state.list('request:')).toEqual([]);
  });

  it('records a push once, whichever of two handles records it and however often', async () => {
    const other = await home.open();
    await Promise.all(
      [bot, other, bot, other].map((s, i) => s.deliveries.record(started(9, 900 + i))),
    );
    const seen = await other.deliveries.ofEvent(9);
    expect(seen).toHaveLength(1);
    expect(await bot.deliveries.ofEvent(9)).toEqual(seen);
    expect(await other.deliveries.byMessage(10, seen[0]?.messageId ?? 0)).toEqual(seen[0]);
  });

  it('migrates once, whoever opens it first, and refuses a newer schema', async () => {
    await Promise.all([home.open(), home.open(), home.open()]);
    expect(await home.version()).toBe(impl.migrations);
    await home.bumpVersion();
    await expect(home.open()).rejects.toThrow('newer than this kugetsu');
  });

  it('pairs a user: the same code until approved, then allowed, then revoked', async () => {
    const other = await home.open();
    const code = await requestPairing(bot.state, 42, '@alice', 1_000);
    expect(await requestPairing(other.state, 42, '@alice', 2_000)).toBe(code);
    expect(await approvePairing(other.state, (code ?? '').toLowerCase(), 3_000)).toMatchObject({
      userId: 42,
      name: '@alice',
    });
    expect(await approvedUsers(bot.state)).toEqual([42]);
    await expect(approvePairing(bot.state, code ?? '', 4_000)).rejects.toThrow(
      'unknown or expired',
    );
    expect(await revokeUser(bot.state, 42)).toBe(true);
    expect(await revokeUser(other.state, 42)).toBe(false);
    expect(await approvedUsers(other.state)).toEqual([]);
  });

  it('expires pairing codes after an hour and caps pending ones', async () => {
    const state = bot.state;
    const code = (await requestPairing(state, 1, 'a', 0)) ?? '';
    await expect(approvePairing(state, code, PAIRING_TTL_MS)).rejects.toThrow('unknown or expired');
    for (let user = 10; user < 10 + MAX_PENDING_PAIRINGS; user += 1)
      expect(await requestPairing(state, user, 'x', PAIRING_TTL_MS)).not.toBeNull();
    expect(await requestPairing(state, 99, 'x', PAIRING_TTL_MS)).toBeNull();
    await expect(approvePairing(state, 'nope', 0)).rejects.toThrow('invalid pairing code "nope"');
  });
});
