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
} from '../core/operations/pairing.js';
import { Store } from '../core/store/store.js';

describe('pairing', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-pair-'));
    store = Store.open(join(dir, 'kugetsu.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes readable codes without look-alike characters', () => {
    const code = newPairingCode();
    expect(code).toMatch(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/);
    expect(newPairingCode(() => 0)).toBe('AAAA-AAAA');
  });

  it('gives a user the same code until it is approved, then allows them', () => {
    const code = requestPairing(store, 42, '@alice', 1_000);
    expect(requestPairing(store, 42, '@alice', 2_000)).toBe(code);
    expect(approvePairing(store, (code ?? '').toLowerCase(), 3_000)).toMatchObject({
      userId: 42,
      name: '@alice',
    });
    expect(approvedUsers(store)).toEqual([42]);
    expect(() => approvePairing(store, code ?? '', 4_000)).toThrow('unknown or expired');
    expect(revokeUser(store, 42)).toBe(true);
    expect(approvedUsers(store)).toEqual([]);
  });

  it('expires codes after an hour and caps pending ones', () => {
    const code = requestPairing(store, 1, 'a', 0) ?? '';
    expect(() => approvePairing(store, code, PAIRING_TTL_MS)).toThrow('unknown or expired');
    for (let user = 10; user < 10 + MAX_PENDING_PAIRINGS; user += 1)
      expect(requestPairing(store, user, 'x', PAIRING_TTL_MS)).not.toBeNull();
    expect(requestPairing(store, 99, 'x', PAIRING_TTL_MS)).toBeNull();
    expect(() => approvePairing(store, 'nope', 0)).toThrow('invalid pairing code "nope"');
  });
});
