/** The bot's leadership lease as a daemon holds it (core/daemon/lease-holder.ts), on a fake clock. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseHolder } from '../core/daemon/lease-holder.js';
import { currentHolder, mayTakeLease, type LeaseRecord } from '../core/store/fleet.js';
import type { LockRecords } from '../core/store/store-interface.js';

/** One lease table, judged by the same pure rules as the stores; `down` makes it unreachable. */
function leases(): { locks: LockRecords; down: boolean; row: LeaseRecord | null } {
  const state = { down: false, row: null as LeaseRecord | null, locks: {} as LockRecords };
  const reach = (): void => {
    if (state.down) throw new Error('connect ECONNREFUSED');
  };
  state.locks = {
    acquireLease: (_name, holder, ttlMs, now = Date.now()) => {
      reach();
      if (!mayTakeLease(state.row, holder, now)) return Promise.resolve(false);
      state.row = { holder, expiresAt: now + ttlMs };
      return Promise.resolve(true);
    },
    releaseLease: (_name, holder) => {
      reach();
      if (state.row?.holder === holder) state.row = null;
      return Promise.resolve();
    },
    leaseHolder: (_name, now = Date.now()) => Promise.resolve(currentHolder(state.row, now)),
    daemonOwner: () => Promise.resolve(null),
    acquireDaemon: () => Promise.resolve({ ok: true as const }),
    releaseDaemon: () => Promise.resolve(),
  };
  return state;
}

function holder(table: ReturnType<typeof leases>, name: string) {
  const seen: string[] = [];
  const lease = new LeaseHolder(table.locks, 'bot', name, 3_000, {
    gained: () => seen.push('gained'),
    lost: () => seen.push('lost'),
    log: (line) => seen.push(line),
  });
  return { lease, seen };
}

describe('LeaseHolder', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('gives the lease to one worker, and to the next once the first stops renewing', async () => {
    const table = leases();
    const a = holder(table, 'a');
    const b = holder(table, 'b');
    a.lease.start();
    await vi.advanceTimersByTimeAsync(0);
    b.lease.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect([a.lease.held, b.lease.held]).toEqual([true, false]);
    expect(a.seen).toEqual(['gained']);
    expect(b.seen).toEqual([]);

    await a.lease.stop();
    expect(table.row).toBeNull();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(b.lease.held).toBe(true);
    expect(b.seen).toEqual(['gained']);
    await b.lease.stop();
  });

  it('keeps the lease through a database outage shorter than its term, and loses it after', async () => {
    const table = leases();
    const a = holder(table, 'a');
    a.lease.start();
    await vi.advanceTimersByTimeAsync(0);
    table.down = true;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(a.lease.held).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(a.lease.held).toBe(false);
    expect(a.seen).toEqual(['gained', 'bot lease cannot be renewed: connect ECONNREFUSED', 'lost']);
    table.down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(a.seen.at(-1)).toBe('gained');
    await a.lease.stop();
  });

  it('hands the lease over when another worker took it after the term ran out', async () => {
    const table = leases();
    const a = holder(table, 'a');
    a.lease.start();
    await vi.advanceTimersByTimeAsync(0);
    // Another worker took it while a's renewals could not get through.
    table.row = { holder: 'b', expiresAt: Date.now() + 60_000 };
    await vi.advanceTimersByTimeAsync(1_000);
    expect(a.lease.held).toBe(false);
    expect(a.seen).toEqual(['gained', 'lost']);
    await a.lease.stop();
    expect(table.row.holder).toBe('b');
  });
});
