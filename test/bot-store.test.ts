/** The bot's own store on the home's SQLite file: its migrations and the queries pushes need. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT_MIGRATIONS } from '../bot/store/bot-migrations.js';
import type { BotStore } from '../bot/store/bot-store.js';
import { openSqliteBotStore } from '../bot/store/sqlite-bot-store.js';
import { SqliteDb } from '../core/store/sqlite/sqlite-db.js';

type Column = { name: string; type: string; notnull: number; dflt_value: unknown; pk: number };

function schemaOf(file: string): Record<string, Column[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = ['chat_deliveries', 'bot_state', 'chat_topics'];
    return Object.fromEntries(
      tables.map((t) => [t, db.prepare(`PRAGMA table_info(${t})`).all() as Column[]]),
    );
  } finally {
    db.close();
  }
}

describe('the bot store', () => {
  let dir: string;
  let file: string;
  let bot: BotStore | null = null;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-bot-store-'));
    file = join(dir, 'kugetsu.db');
  });
  afterEach(async () => {
    await bot?.close();
    bot = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the pushes a home made before the bot had its own store, and reads them alone', async () => {
    // A home as core migrations 1–8 left it, with a started task and an approval pushed.
    const core = SqliteDb.open(file);
    core.raw.exec(`
      INSERT INTO events (id, type, task_id, issue_ref, message, data, created_at) VALUES
        (1, 'task_started', 7, 'h/o/r#1', '#7 started', NULL, 1),
        (2, 'approval_requested', 7, 'h/o/r#1', '#7 asks', '{"approvalId":3}', 2);
      INSERT INTO chat_deliveries (event_id, chat_id, message_id, task_id, issue_ref, sent_at, kind)
        VALUES (1, 10, 100, 7, 'h/o/r#1', 1, 'message'), (2, 10, 101, 7, 'h/o/r#1', 2, 'message');
      INSERT INTO bot_state (key, value, updated_at) VALUES ('approved_user:42', '{}', 1);
    `);
    core.close();

    bot = openSqliteBotStore(file);
    expect(await bot.state.get('approved_user:42')).toBe('{}');
    expect(await bot.deliveries.statusMessage(10, 7)).toEqual({
      messageId: 100,
      type: 'task_started',
    });
    expect(await bot.deliveries.approvalAt(10, 101)).toBe(3);
    expect((await bot.deliveries.ofApprovalRequest(3)).map((d) => d.messageId)).toEqual([101]);
    expect((await bot.deliveries.started(7)).map((d) => d.messageId)).toEqual([100]);
    expect(await bot.deliveries.byMessage(10, 101)).toMatchObject({ taskId: 7, eventId: 2 });
  });

  it('gives a database without the core’s old bot tables the same schema', async () => {
    SqliteDb.open(file).close();
    bot = openSqliteBotStore(file);
    await bot.close();
    const upgraded = schemaOf(file);

    const bare = join(dir, 'bare.db');
    const db = new Database(bare);
    db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT, data TEXT)');
    db.close();
    bot = openSqliteBotStore(bare);
    expect(schemaOf(bare)).toEqual(upgraded);
  });

  it('migrates once, whoever opens it first, and refuses a newer schema', async () => {
    SqliteDb.open(file).close();
    const stores = [openSqliteBotStore(file), openSqliteBotStore(file)];
    await Promise.all(stores.map((s) => s.close()));
    const db = new Database(file);
    expect(db.prepare('SELECT version FROM bot_schema').all()).toEqual([
      { version: BOT_MIGRATIONS.length },
    ]);
    db.prepare('UPDATE bot_schema SET version = ?').run(BOT_MIGRATIONS.length + 1);
    db.close();
    expect(() => openSqliteBotStore(file)).toThrow('newer than this kugetsu');
  });

  it('records a digest line with the digest, and follows the latest start of a task', async () => {
    SqliteDb.open(file).close();
    bot = openSqliteBotStore(file);
    const push = { chatId: 10, taskId: 7, issueRef: 'h/o/r#1' };
    await bot.deliveries.record({ ...push, eventId: 1, eventType: 'task_started', messageId: 100 });
    await bot.deliveries.recordInDigest(
      { ...push, eventId: 2, eventType: 'task_completed', messageId: 200 },
      { key: 'digest:10', value: '{"messageId":200}' },
    );
    expect(await bot.state.get('digest:10')).toBe('{"messageId":200}');
    // A digest line is no message of the task's own.
    expect(await bot.deliveries.statusMessage(10, 7)).toMatchObject({ messageId: 100 });
    expect(await bot.deliveries.byMessage(10, 200)).toBeNull();
    expect(await bot.deliveries.recentTasks(10, 0)).toEqual([7]);

    await bot.deliveries.record({ ...push, eventId: 3, eventType: 'task_started', messageId: 300 });
    expect((await bot.deliveries.started(7)).map((d) => d.messageId)).toEqual([300]);
    // Recorded again (a redelivery after a restart): nothing changes.
    await bot.deliveries.record({ ...push, eventId: 3, eventType: 'task_started', messageId: 999 });
    expect(await bot.deliveries.isDelivered(3, 10)).toBe(true);
    expect((await bot.deliveries.ofEvent(3)).map((d) => d.messageId)).toEqual([300]);
  });

  it('moves pairing state in one step and knows open topics', async () => {
    SqliteDb.open(file).close();
    bot = openSqliteBotStore(file);
    await bot.state.set('pairing:AAAA-AAAA', 'x', 1);
    await bot.state.move('pairing:AAAA-AAAA', { key: 'approved_user:1', value: 'x' }, 2);
    expect(await bot.state.list('pairing:')).toEqual([]);
    expect(await bot.state.list('approved_user:')).toEqual([
      { key: 'approved_user:1', value: 'x', updatedAt: 2 },
    ]);
    await bot.topics.save({ chatId: -1, issueRef: 'h/o/r#1', threadId: 5, name: 'n' }, 1);
    await bot.topics.save({ chatId: -1, issueRef: 'h/o/r#2', threadId: 6, name: 'm' }, 2);
    await bot.topics.setClosed(-1, 'h/o/r#2', 3);
    expect((await bot.topics.open()).map((t) => t.issueRef)).toEqual(['h/o/r#1']);
    expect(await bot.topics.byThread(-1, 6)).toMatchObject({ issueRef: 'h/o/r#2', closedAt: 3 });
  });
});
