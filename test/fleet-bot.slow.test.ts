/**
 * One bot for a fleet, end to end: two daemons with homes of their own (two machines) on one
 * real PostgreSQL schema, both with the token of one fake Bot API. Worker a leads the bot; a
 * stranger's pairing code it handed out is approved on b's command line; a is killed; b takes
 * the bot lease and, from the shared bot store, knows a's pushes (a reply to one continues its
 * task) and a's paired user.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../core/domain.js';
import { openPostgresStore } from '../core/store/postgres/postgres-store.js';
import { OWNER, rendered } from './helpers/bot-world.js';
import { FakeTelegram, type ChatMessage } from './helpers/fake-telegram.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { Sandbox, fixture, running } from './helpers/sandbox.js';

const STRANGER = { id: 222, first_name: 'Stranger' };
const LEASE_S = 3;

let pg: TestPostgres;
let tg: FakeTelegram;
const workers: Sandbox[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  tg = await FakeTelegram.start();
}, 120_000);
afterAll(async () => {
  for (const w of workers) await w.cleanup();
  await tg.close();
  await pg.stop();
}, 60_000);

function logOf(w: Sandbox): string {
  try {
    return readFileSync(join(w.home, 'logs', 'daemon.log'), 'utf8');
  } catch {
    return '';
  }
}

function said(chat: number, match: (text: string) => boolean): Promise<ChatMessage> {
  return tg.waitFor(() => tg.messagesIn(chat).find((m) => match(rendered(m.text ?? ''))), 30_000);
}

describe('the bot of a fleet', () => {
  it('goes on where the last leader left: its pushes and pairings are the fleet’s', async () => {
    const url = await pg.schemaUrl();
    for (const name of ['a', 'b'])
      workers.push(
        new Sandbox({
          KUGETSU_DATABASE_URL: url,
          KUGETSU_WORKER_NAME: name,
          KUGETSU_WORKER_LEASE_SECONDS: String(LEASE_S),
          KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh'),
          TELEGRAM_BOT_TOKEN: tg.token,
          TELEGRAM_API_ROOT: tg.apiRoot,
          TELEGRAM_ALLOWED_USERS: String(OWNER.id),
          TELEGRAM_NOTIFY_CHATS: String(OWNER.id),
        }),
      );
    const [a, b] = workers as [Sandbox, Sandbox];
    await a.setup();
    await b.ok(['init']);
    await a.ok(['daemon', 'start']);
    await a.until('a to lead the bot', () => logOf(a).includes('worker a runs the bot'));
    await tg.waitFor(() => tg.calls('getUpdates').length > 0);
    await b.ok(['daemon', 'start']);

    // A stranger asks a's bot for access; the owner approves the code on the other machine.
    tg.userSends(STRANGER, '/start');
    const refusal = await said(STRANGER.id, (t) => t.includes('kugetsu bot allow'));
    const code = /kugetsu bot allow (\S+)/.exec(rendered(refusal.text ?? ''))?.[1] ?? '';
    expect(await b.json<{ allowed: { userId: number } }>(['bot', 'allow', code])).toMatchObject({
      allowed: { userId: STRANGER.id },
    });

    const first = (
      await a.json<{ task: Task }>(['queue', 'enqueue', 'local/me/app#5', 'work on #5'])
    ).task;
    const done = await said(OWNER.id, (t) => t.startsWith('✅ completed') && t.includes('#5'));
    expect(logOf(b)).not.toContain('worker b runs the bot');

    // Machine a dies; b takes the bot lease once a's has run out.
    const pid = Number(readFileSync(join(a.home, 'daemon.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await a.until('a to be gone', () => !running(pid));
    await b.until('b to lead the bot', () => logOf(b).includes('worker b runs the bot'), 20_000);

    // A reply to a's push continues the task it showed, on b's bot.
    tg.userSends(OWNER, 'now add the tests', { replyTo: done.message_id });
    const queued = await said(OWNER.id, (t) => /^📥 Task #\d+ queued for local\/me\/app#5/.test(t));
    const id = Number(/Task #(\d+)/.exec(rendered(queued.text ?? ''))?.[1]);
    const db = await openPostgresStore(url);
    try {
      expect(await db.tasks.get(id)).toMatchObject({
        issueRef: 'local/me/app#5',
        mode: 'continue',
        message: 'now add the tests',
      });
      expect(id).not.toBe(first.id);
    } finally {
      await db.close();
    }

    // The user paired through a's bot and b's command line is let in by b's bot.
    tg.userSends(STRANGER, '/help');
    await said(STRANGER.id, (t) => t.startsWith('kugetsu runs coding agents'));
    expect(tg.violations).toEqual([]);
  }, 60_000);
});
