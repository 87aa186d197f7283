import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_PENDING_PAIRINGS,
  PAIRING_TTL_MS,
  approvePairing,
  approvedUsers,
  newPairingCode,
  requestPairing,
  revokeUser,
} from '../bot/pairing.js';
import type { BotStateRecords, BotStore } from '../bot/store/bot-store.js';
import { openSqliteBotStore } from '../bot/store/sqlite-bot-store.js';
import { SqliteDb } from '../core/store/sqlite/sqlite-db.js';

describe('pairing', () => {
  let dir: string;
  let bot: BotStore;
  let store: BotStateRecords;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-pair-'));
    // The core makes and migrates the home's database; the bot's store opens it after.
    SqliteDb.open(join(dir, 'kugetsu.db')).close();
    bot = openSqliteBotStore(join(dir, 'kugetsu.db'));
    store = bot.state;
  });
  afterEach(async () => {
    await bot.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes readable codes without look-alike characters', () => {
    const code = newPairingCode();
    expect(code).toMatch(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/);
    expect(newPairingCode(() => 0)).toBe('AAAA-AAAA');
  });

  it('gives a user the same code until it is approved, then allows them', async () => {
    const code = await requestPairing(store, 42, '@alice', 1_000);
    expect(await requestPairing(store, 42, '@alice', 2_000)).toBe(code);
    expect(await approvePairing(store, (code ?? '').toLowerCase(), 3_000)).toMatchObject({
      userId: 42,
      name: '@alice',
    });
    expect(await approvedUsers(store)).toEqual([42]);
    await expect(approvePairing(store, code ?? '', 4_000)).rejects.toThrow('unknown or expired');
    expect(await revokeUser(store, 42)).toBe(true);
    expect(await approvedUsers(store)).toEqual([]);
  });

  it('expires codes after an hour and caps pending ones', async () => {
    const code = (await requestPairing(store, 1, 'a', 0)) ?? '';
    await expect(approvePairing(store, code, PAIRING_TTL_MS)).rejects.toThrow('unknown or expired');
    for (let user = 10; user < 10 + MAX_PENDING_PAIRINGS; user += 1)
      expect(await requestPairing(store, user, 'x', PAIRING_TTL_MS)).not.toBeNull();
    expect(await requestPairing(store, 99, 'x', PAIRING_TTL_MS)).toBeNull();
    await expect(approvePairing(store, 'nope', 0)).rejects.toThrow('invalid pairing code "nope"');
  });
});
