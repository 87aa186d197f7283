/** docs/api.md's endpoint reference is the OpenAPI document's, and the document is sound. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { renderEndpoints, spliceEndpoints } from '../src/api/api-docs.js';
import { apiDocument } from '../src/api/api-document.js';

const document = await apiDocument();

describe('docs/api.md', () => {
  it('holds the endpoint reference the OpenAPI document gives', async () => {
    const path = fileURLToPath(new URL('../docs/api.md', import.meta.url));
    const doc = readFileSync(path, 'utf8');
    const options = (await prettier.resolveConfig(path)) ?? {};
    const expected = await prettier.format(spliceEndpoints(doc, renderEndpoints(document)), {
      ...options,
      filepath: path,
    });
    expect(doc, 'docs/api.md is out of date: run `npm run docs:api`').toBe(expected);
  });

  it('documents every operation with a summary, its problems, and a token unless public', () => {
    const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
      Object.entries(item ?? {}).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(25);
    for (const { path, method, op } of operations) {
      expect(path, path).toMatch(/^\/api\/v1\//);
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(Object.keys(op.responses), `${method} ${path}`).toContain('401');
      if (method === 'post') expect(Object.keys(op.responses)).toContain('413');
    }
    const publicOps = operations.filter(({ op }) => op.security?.length === 0);
    expect(publicOps.map(({ path }) => path)).toEqual(['/api/v1/auth/login']);
  });
});
