/**
 * `npm run docs:config`: rewrites what core/config/settings.ts generates outside the code —
 * .env.example (what `kugetsu init` writes to config.env) and the settings table of
 * docs/configuration.md, between its marker comments — from the built dist/ (the npm script
 * builds first). test/config-settings.test.ts fails while either file is out of date.
 */
import console from 'node:console';
import { readFileSync, writeFileSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { renderConfigEnv, spliceSettingsTable } from '../dist/core/config/render.js';

const root = new URL('..', import.meta.url);
const example = fileURLToPath(new URL('.env.example', root));
const doc = fileURLToPath(new URL('docs/configuration.md', root));

/** Writes `text` to `file` when it differs, and says which files it wrote. */
function update(file, text) {
  const name = file.slice(fileURLToPath(root).length);
  if (readFileSync(file, 'utf8') === text) {
    console.log(`${name}: up to date`);
  } else {
    writeFileSync(file, text);
    console.log(`${name}: rewritten`);
  }
}

update(example, renderConfigEnv());
// Formatted as `npm run lint` checks it, with the same options the test uses.
const options = (await prettier.resolveConfig(doc)) ?? {};
const spliced = spliceSettingsTable(readFileSync(doc, 'utf8'));
update(doc, await prettier.format(spliced, { ...options, filepath: doc }));
