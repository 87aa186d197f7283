/**
 * `npm run docs:api`: rewrites the endpoint reference of docs/api.md, between its marker
 * comments, from the OpenAPI document of the built dist/ (the npm script builds first).
 * test/api-docs.test.ts fails while docs/api.md is out of date.
 */
import console from 'node:console';
import { readFileSync, writeFileSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { renderEndpoints, spliceEndpoints } from '../dist/src/api/api-docs.js';
import { apiDocument } from '../dist/src/api/api-document.js';

const doc = fileURLToPath(new URL('../docs/api.md', import.meta.url));
const options = (await prettier.resolveConfig(doc)) ?? {};
const current = readFileSync(doc, 'utf8');
const next = await prettier.format(spliceEndpoints(current, renderEndpoints(await apiDocument())), {
  ...options,
  filepath: doc,
});
if (next === current) console.log('docs/api.md: up to date');
else {
  writeFileSync(doc, next);
  console.log('docs/api.md: rewritten');
}
