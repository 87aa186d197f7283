/** Pairing codes. Pairing through the bot's store, on either engine: bot-store.conformance.test.ts. */
import { describe, expect, it } from 'vitest';
import { newPairingCode } from '../bot/pairing.js';

describe('pairing', () => {
  it('makes readable codes without look-alike characters', () => {
    const code = newPairingCode();
    expect(code).toMatch(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/);
    expect(newPairingCode(() => 0)).toBe('AAAA-AAAA');
  });
});
