/**
 * The check-then-spawn race, attacked directly: 6 processes claim from one SQLite file at the
 * same instant. With the count and the claim in one BEGIN IMMEDIATE transaction, exactly
 * MAX slots are handed out in total, never more.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../core/store/sqlite/sqlite-store.js';
import { ROOT } from './helpers/sandbox.js';

const STORE_JS = pathToFileURL(
  join(ROOT, 'dist', 'core', 'store', 'sqlite', 'sqlite-store.js'),
).href;

// Each claimer waits for a shared start time, then claims in a tight loop for a while.
const CLAIMER = `
const { openSqliteStore } = await import(process.argv[1]);
const store = openSqliteStore(process.argv[2]);
const startAt = Number(process.argv[3]);
while (Date.now() < startAt) {}
let mine = 0;
const until = Date.now() + 400;
while (Date.now() < until) {
  mine += (await store.claims.claim({ owner: { pid: process.pid, start: 'x' }, maxAgents: 3, availableMemoryMb: null, minFreeMemoryMb: 0 })).claimed.length;
}
process.stdout.write(String(mine));
`;

function claimer(db: string, startAt: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      CLAIMER,
      STORE_JS,
      db,
      String(startAt),
    ]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(err))));
  });
}

describe('claims across processes', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands out exactly MAX_CONCURRENT_AGENTS slots to 6 racing processes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-claim-'));
    const db = join(dir, 'kugetsu.db');
    const store = openSqliteStore(db);
    for (let n = 1; n <= 40; n += 1) {
      await store.tasks.enqueue(
        {
          kind: 'dev',
          mode: 'start',
          issueRef: `h/o/r#${n}`,
          message: 'x',
          agent: 'command',
          maxAttempts: 1,
        },
        null,
      );
    }
    const startAt = Date.now() + 1_500;
    const claims = await Promise.all(Array.from({ length: 6 }, () => claimer(db, startAt)));
    expect(claims.reduce((a, b) => a + b, 0)).toBe(3);
    expect(await store.claims.countedSlots()).toBe(3);
    expect(await store.tasks.list({ states: ['running'] })).toHaveLength(3);
    await store.close();
  });
});
