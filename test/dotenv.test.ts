import { describe, expect, it } from 'vitest';
import { parseDotenv, serializeDotenv, validateEnvKey } from '../core/dotenv.js';
import { UsageError, quote } from '../core/errors.js';

function roundTrip(value: string): string | undefined {
  return parseDotenv(serializeDotenv([{ key: 'K', value }]))['K'];
}

describe('parseDotenv', () => {
  it('parses plain, quoted and exported lines, with comments', () => {
    const text = [
      '# a comment',
      'A=1',
      'B="two words"',
      "C='single # quoted'",
      'export D=4',
      'E=value # trailing comment',
      '',
      'F=',
    ].join('\n');
    expect(parseDotenv(text)).toEqual({
      A: '1',
      B: 'two words',
      C: 'single # quoted',
      D: '4',
      E: 'value',
      F: '',
    });
  });

  it('handles CRLF line endings', () => {
    expect(parseDotenv('A=1\r\nB=2\r\n')).toEqual({ A: '1', B: '2' });
  });

  it('ignores a commented-out assignment on the last line without a newline', () => {
    // parseEnv on its own returns { '# B': '2' } here.
    expect(parseDotenv('A=1\n# B=2')).toEqual({ A: '1' });
    expect(parseDotenv('# B=2')).toEqual({});
  });

  it('ignores indented commented-out assignments', () => {
    expect(parseDotenv('A=1\n  # B=2\nC=3\n')).toEqual({ A: '1', C: '3' });
  });

  it('lets the last duplicate win', () => {
    expect(parseDotenv('A=1\nA=2\n')).toEqual({ A: '2' });
  });

  it('returns an empty object for empty text', () => {
    expect(parseDotenv('')).toEqual({});
  });
});

describe('serializeDotenv', () => {
  it('writes plain values unquoted, one line each, ending in a newline', () => {
    expect(
      serializeDotenv([
        { key: 'A', value: 'abc' },
        { key: 'URL', value: 'https://x.example:8080/p,q+r@s-t_u.v' },
        { key: 'EMPTY', value: '' },
      ]),
    ).toBe('A=abc\nURL=https://x.example:8080/p,q+r@s-t_u.v\nEMPTY=\n');
  });

  it('writes nothing for no entries', () => {
    expect(serializeDotenv([])).toBe('');
  });

  it('double-quotes values with spaces', () => {
    expect(serializeDotenv([{ key: 'A', value: 'two words' }])).toBe('A="two words"\n');
  });

  it('writes comments above their key', () => {
    const text = serializeDotenv([{ key: 'A', value: '1', comment: 'first\n\nsecond' }]);
    expect(text).toBe('# first\n#\n# second\nA=1\n');
    expect(parseDotenv(text)).toEqual({ A: '1' });
  });

  it.each([
    ['plain', 'sk-abc123'],
    ['empty', ''],
    ['spaces', 'two words here'],
    ['leading and trailing spaces', '  padded  '],
    ['hash', 'a#b'],
    ['spaced hash', 'value # not a comment'],
    ['leading hash', '#hash'],
    ['dollar', '$HOME and ${HOME}'],
    ['double quotes', 'say "hi"'],
    ['single quotes', "it's"],
    ['both quote kinds', `it's "quoted"`],
    ['backslash', 'C:\\path\\to'],
    ['backslash-n, literally', 'a\\nb'],
    ['backslash and double quote', 'a\\"b'],
    ['backslash and single quote', "a\\'b"],
    ['equals', 'a=b==c'],
    ['backtick', 'run `id`'],
    ['tab', 'a\tb'],
    ['semicolon and pipes', 'a; b | c && d'],
    ['unicode', 'héllo wörld ✓'],
    ['shell injection', '$(touch /tmp/pwned)'],
    ['only a quote', '"'],
    ['only a single quote', "'"],
    ['only a backslash', '\\'],
  ])('round-trips %s', (_name, value) => {
    expect(roundTrip(value)).toBe(value);
  });

  it('round-trips many entries in one file', () => {
    const entries = [
      { key: 'A', value: 'x y' },
      { key: 'B', value: "it's" },
      { key: 'C', value: 'say "hi"' },
      { key: 'D', value: `both ' and "` },
      { key: 'E', value: 'a#b' },
    ];
    const parsed = parseDotenv(serializeDotenv(entries));
    expect(parsed).toEqual(Object.fromEntries(entries.map((e) => [e.key, e.value])));
  });

  it.each([
    ['a newline', 'line1\nline2'],
    ['a carriage return', 'line1\rline2'],
    ['every quote kind', `it's "quoted" with \`ticks\``],
  ])('refuses a value with %s, naming the key', (_name, value) => {
    expect(() => serializeDotenv([{ key: 'MY_SECRET', value }])).toThrow(UsageError);
    expect(() => serializeDotenv([{ key: 'MY_SECRET', value }])).toThrow(/MY_SECRET/);
  });

  it('does not echo the refused value', () => {
    try {
      serializeDotenv([{ key: 'API_TOKEN', value: 's3cr3t\'"`' }]);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cr3t');
    }
  });

  it('refuses an invalid key', () => {
    expect(() => serializeDotenv([{ key: 'BAD KEY', value: '1' }])).toThrow(/"BAD KEY"/);
  });
});

describe('validateEnvKey', () => {
  it.each(['A', '_A', 'a_b_9', 'OPENAI_API_KEY'])('accepts %j', (key) => {
    expect(() => validateEnvKey(key)).not.toThrow();
  });

  it.each(['', '1A', 'A-B', 'A.B', 'BAD KEY', 'A=B', '# A', 'A\n', 'É'])('rejects %j', (key) => {
    expect(() => validateEnvKey(key)).toThrow(UsageError);
    expect(() => validateEnvKey(key)).toThrow(quote(key));
  });
});
