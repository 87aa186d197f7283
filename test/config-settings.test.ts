import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.js';
import { SETTINGS, type Setting } from '../core/config/settings.js';
import { UsageError } from '../core/errors.js';
import { isSecretKey } from '../core/secrets.js';

const settings: readonly Setting[] = SETTINGS;

describe('the settings table', () => {
  it('names each key and each field once', () => {
    const keys = settings.map((s) => s.key);
    const fields = settings.map((s) => s.field);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    expect(fields.filter((f, i) => fields.indexOf(f) !== i)).toEqual([]);
    for (const key of keys) expect(key).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('fills every field of Config, and Config has no other', () => {
    expect(Object.keys(parseConfig({})).sort()).toEqual(settings.map((s) => s.field).sort());
  });

  it('marks exactly the secret-named keys secret', () => {
    // isSecretKey is what masks and scrubs values everywhere else (env files, kugetsu's own
    // environment): a secret whose name it misses would be hidden in one error message and
    // shown in the next transcript. Name a secret setting …_TOKEN, …_SECRET, …_KEY instead.
    for (const { key, secret } of settings) {
      expect(secret === true, `${key}: secret flag vs isSecretKey`).toBe(isSecretKey(key));
    }
  });

  it('says what each setting is and expects in one line', () => {
    for (const s of settings) {
      for (const text of [s.doc, s.expected ?? s.type.expected]) {
        expect(text, s.key).not.toMatch(/[\r\n]/);
        expect(text.length, s.key).toBeGreaterThan(5);
      }
    }
  });

  it('never echoes the value of a secret setting', () => {
    for (const { key } of settings.filter((s) => s.secret === true)) {
      const message = (() => {
        try {
          parseConfig({ [key]: 'bad value s3cr3t' });
        } catch (err) {
          return err instanceof UsageError ? err.message : String(err);
        }
        return 'accepted';
      })();
      expect(message).toMatch(new RegExp(`^invalid ${key} \\(value not shown\\): expected `));
      expect(message).not.toContain('s3cr3t');
    }
  });
});
