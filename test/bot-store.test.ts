/**
 * The bot's own store on the home's SQLite file: what it keeps of homes made before it had one.
 * Its contract on either engine is test/bot-store.conformance.test.ts.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
});
