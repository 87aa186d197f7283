import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.js';
import {
  SETTINGS_TABLE_BEGIN,
  SETTINGS_TABLE_END,
  renderConfigEnv,
  renderSettingsTable,
  spliceSettingsTable,
} from '../core/config/render.js';
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

describe('files generated from the table', () => {
  const REGENERATE = 'out of date with core/config/settings.ts: run `npm run docs:config`';

  it('.env.example is what `kugetsu init` writes', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    expect(example, `.env.example is ${REGENERATE}`).toBe(renderConfigEnv());
  });

  it('docs/configuration.md holds the settings table as the table says', async () => {
    const path = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
    const doc = readFileSync(path, 'utf8');
    // Formatted as scripts/docs-config.mjs writes it (and as `npm run lint` checks it).
    const options = (await prettier.resolveConfig(path)) ?? {};
    const expected = await prettier.format(spliceSettingsTable(doc), {
      ...options,
      filepath: path,
    });
    expect(doc, `docs/configuration.md is ${REGENERATE}`).toBe(expected);
  });

  it('the docs table has one row per setting, in order, with its default', () => {
    const rows = renderSettingsTable().split('\n').slice(2);
    expect(rows).toHaveLength(settings.length);
    settings.forEach((s, i) => {
      expect(rows[i]).toMatch(new RegExp(`^\\| \`${s.key}\` \\| `));
      if (s.default !== undefined && s.default !== '')
        expect(rows[i]).toContain(`\`${s.default}\``);
    });
  });

  it('splices between the markers only, and refuses a doc without them', () => {
    const doc = `# T\n\n${SETTINGS_TABLE_BEGIN}\nold\n${SETTINGS_TABLE_END}\n\ntail\n`;
    expect(spliceSettingsTable(doc, 'NEW')).toBe(
      `# T\n\n${SETTINGS_TABLE_BEGIN}\n\nNEW\n\n${SETTINGS_TABLE_END}\n\ntail\n`,
    );
    expect(() => spliceSettingsTable('# T\n', 'NEW')).toThrow(SETTINGS_TABLE_BEGIN);
  });
});
