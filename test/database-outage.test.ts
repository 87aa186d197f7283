/** What counts as the database out of reach, and what is retried through it. */
import { describe, expect, it } from 'vitest';
import { persistThroughOutages } from '../core/daemon/fleet-worker.js';
import { DatabaseUnreachableError, OperationError } from '../core/errors.js';
import { classified, isUnreachable } from '../core/store/postgres/pg-errors.js';

const withCode = (message: string, code: string): Error =>
  Object.assign(new Error(message), { code });

describe('isUnreachable', () => {
  it.each([
    withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    withCode('read ECONNRESET', 'ECONNRESET'),
    withCode('the database system is starting up', '57P03'),
    withCode('terminating connection due to administrator command', '57P01'),
    withCode('connection failure', '08006'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
  ])('holds for %s', (err) => {
    expect(isUnreachable(err)).toBe(true);
    expect(classified(err)).toBeInstanceOf(DatabaseUnreachableError);
  });

  it.each([
    withCode('duplicate key value violates unique constraint', '23505'),
    withCode('syntax error at or near "SELEC"', '42601'),
    new OperationError('the claim no longer holds'),
    'ECONNREFUSED',
  ])('does not hold for %s', (err) => {
    expect(isUnreachable(err)).toBe(false);
    expect(classified(err)).toBe(err);
  });
});

describe('persistThroughOutages', () => {
  it('retries while the database is out of reach, and returns what the call gave', async () => {
    let calls = 0;
    const result = await persistThroughOutages(
      () => {
        calls += 1;
        if (calls < 3) return Promise.reject(new DatabaseUnreachableError('ECONNREFUSED'));
        return Promise.resolve('landed');
      },
      () => false,
    );
    expect([result, calls]).toEqual(['landed', 3]);
  });

  it('passes any other failure on at once', async () => {
    let calls = 0;
    const failed = new Error('duplicate key');
    await expect(
      persistThroughOutages(
        () => {
          calls += 1;
          return Promise.reject(failed);
        },
        () => false,
      ),
    ).rejects.toBe(failed);
    expect(calls).toBe(1);
  });

  it('gives up once the daemon is stopping', async () => {
    const down = new DatabaseUnreachableError('ECONNREFUSED');
    await expect(
      persistThroughOutages(
        () => Promise.reject(down),
        () => true,
      ),
    ).rejects.toBe(down);
  });
});
