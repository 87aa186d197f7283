import { describe, expect, it } from 'vitest';
import { MASK, Scrubber, isSecretKey, maskValue } from '../core/secrets.js';

describe('isSecretKey', () => {
  it.each([
    'TELEGRAM_BOT_TOKEN',
    'GITEA_TOKEN',
    'github_token',
    'CLIENT_SECRET',
    'DB_PASSWORD',
    'OPENAI_API_KEY',
    'ANTHROPIC_API_KEY',
    'SSH_KEY',
    'KEY',
    'apiKey',
  ])('%s is secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['PATH', 'HOME', 'ANTHROPIC_BASE_URL', 'CODEX_HOME', 'KUGETSU_MODEL', 'USER', ''])(
    '%s is not secret',
    (key) => {
      expect(isSecretKey(key)).toBe(false);
    },
  );
});

describe('maskValue', () => {
  it('masks secret keys only', () => {
    expect(MASK).toBe('***MASKED***');
    expect(maskValue('GITEA_TOKEN', 'abc123')).toBe(MASK);
    expect(maskValue('api_key', '')).toBe(MASK);
    expect(maskValue('ANTHROPIC_BASE_URL', 'http://x')).toBe('http://x');
  });
});

describe('Scrubber', () => {
  it('masks every occurrence of every secret', () => {
    const s = new Scrubber(['tok-123456', 'hunter22']);
    expect(s.scrub('a tok-123456 b hunter22 c tok-123456')).toBe(`a ${MASK} b ${MASK} c ${MASK}`);
  });

  it('leaves text without secrets unchanged', () => {
    const s = new Scrubber(['tok-123456']);
    expect(s.scrub('nothing to see')).toBe('nothing to see');
    expect(s.scrub('')).toBe('');
  });

  it('ignores secrets shorter than 4 characters and duplicates', () => {
    const s = new Scrubber(['abc', '', 'abcd', 'abcd']);
    expect(s.size).toBe(1);
    expect(s.scrub('abc abcd')).toBe(`abc ${MASK}`);
  });

  it('treats regex metacharacters literally', () => {
    const s = new Scrubber(['a.b*c+(d)?[e]{2}|f^$\\']);
    expect(s.scrub('x a.b*c+(d)?[e]{2}|f^$\\ y')).toBe(`x ${MASK} y`);
    expect(s.scrub('x aXbbbcd y')).toBe('x aXbbbcd y');
  });

  it('masks a secret containing another one whole', () => {
    const s = new Scrubber(['abcd', 'xxabcdxx']);
    expect(s.scrub('[xxabcdxx] [abcd]')).toBe(`[${MASK}] [${MASK}]`);
  });

  it('masks overlapping secrets completely', () => {
    // A plain left-to-right replace would mask "abcdef" and leave "ghi" of the second secret.
    const s = new Scrubber(['abcdef', 'defghi']);
    expect(s.scrub('<abcdefghi>')).toBe(`<${MASK}>`);
    expect(s.scrub('<defghi abcdef>')).toBe(`<${MASK} ${MASK}>`);
  });

  it('masks a chain of overlapping occurrences of one secret', () => {
    const s = new Scrubber(['aaaa']);
    expect(s.scrub('baaaaaab')).toBe(`b${MASK}b`);
  });

  it('works with an empty scrubber', () => {
    const s = Scrubber.empty();
    expect(s.size).toBe(0);
    expect(s.scrub('anything tok-123456')).toBe('anything tok-123456');
  });

  it('accepts any iterable', () => {
    const s = new Scrubber(new Set(['tok-123456']).values());
    expect(s.size).toBe(1);
    expect(s.scrub('tok-123456')).toBe(MASK);
  });

  it('scrubs many lines with many secrets quickly', () => {
    const secrets = Array.from({ length: 50 }, (_, i) => `secret-value-${i}-${'x'.repeat(i % 7)}`);
    const s = new Scrubber(secrets);
    const lines = Array.from({ length: 20_000 }, (_, i) =>
      i % 100 === 0
        ? `line ${i} uses ${secrets[i % 50] ?? ''}`
        : `line ${i}: compiling module ${i}`,
    );
    const started = performance.now();
    const out = lines.map((l) => s.scrub(l));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(out.filter((l) => l.includes(MASK))).toHaveLength(200);
    expect(out.join('\n')).not.toMatch(/secret-value/);
  });
});
