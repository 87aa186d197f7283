/**
 * The fake GitHub against GitHub's own OpenAPI description: every response the fake gives in
 * this file — each endpoint kugetsu uses, success and error statuses — must validate against
 * the schema GitHub publishes for that operation and status.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgeApiFor } from '../core/forges/forge-client.js';
import { FakeForge, type RecordedForgeRequest } from './helpers/fake-forge.js';

// The package's index loads every variant (385 MB); this one file is the description of
// api.github.com, 13 MB, read once.
const SPEC_PATH = join(
  import.meta.dirname,
  '..',
  'node_modules',
  '@octokit',
  'openapi',
  'generated',
  'api.github.com.json',
);

type Json = Record<string, unknown>;

interface Operation {
  responses: Record<string, Json>;
}

interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: Json;
}

/**
 * OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a union with null (in `type` and `enum`). `oneOf` becomes
 * `anyOf`: GitHub's unions overlap (private-user is a superset of public-user, chosen by a
 * discriminator ajv cannot map; several nullable alternatives all accept null), so `oneOf`
 * would reject valid bodies. Each alternative is still checked in full.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === 'nullable' || key === 'discriminator' || key === 'example' || key === 'examples')
      continue;
    out[key === 'oneOf' ? 'anyOf' : key] = toJsonSchema(value);
  }
  if ((node as Json).nullable !== true) return out;
  // `nullable` widens an `enum` too (state_reason: null on an open issue).
  if (Array.isArray(out.enum) && !out.enum.includes(null))
    out.enum = [...(out.enum as unknown[]), null];
  if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] };
  return { anyOf: [out, { type: 'null' }] };
}

const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;

function makeAjv(spec: Spec): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  ajv.addFormat('date-time', DATE_TIME);
  ajv.addFormat('date', /^\d{4}-\d\d-\d\d$/);
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
  for (const format of ['int64', 'int32', 'double', 'repo.nwo', 'binary', 'uri-template']) {
    ajv.addFormat(format, true);
  }
  ajv.addFormat('timestamp', true);
  ajv.addSchema({ $id: 'gh', components: toJsonSchema(spec.components) });
  return ajv;
}

/** Rewrites local refs to the components document added under `$id: gh`. */
function rebase(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rebase);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    out[key] =
      key === '$ref' && typeof value === 'string' && value.startsWith('#/')
        ? `gh${value}`
        : rebase(value);
  }
  return out;
}

function resolve(spec: Spec, node: Json): Json {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  let target: unknown = spec;
  for (const part of ref.slice(2).split('/')) target = (target as Json)[part];
  return resolve(spec, target as Json);
}

/** The spec's template for a concrete path: literal segments beat parameters. */
function findTemplate(spec: Spec, path: string): string | null {
  const candidates = Object.keys(spec.paths).filter((template) => {
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
    return new RegExp(`^${pattern}$`).test(path);
  });
  const params = (t: string): number => (t.match(/\{/g) ?? []).length;
  return candidates.sort((a, b) => params(a) - params(b))[0] ?? null;
}

describe('the fake GitHub speaks GitHub’s OpenAPI description', () => {
  const TOKEN = 'ghp_fakeOpenApiToken0123456789';
  let spec: Spec;
  let ajv: Ajv;
  let forge: FakeForge;
  const validators = new Map<string, ValidateFunction>();
  const undocumented: string[] = [];

  /** The validator for one operation and status; null when GitHub documents no body for it. */
  function validatorFor(method: string, template: string, status: number): ValidateFunction | null {
    const key = `${method} ${template} ${status}`;
    const cached = validators.get(key);
    if (cached) return cached;
    const operation = spec.paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`no operation ${method} ${template} in the description`);
    const documented = operation.responses[String(status)];
    let schema: unknown;
    // A 304 has no body by definition; GitHub documents it on some list endpoints only.
    if (status === 304) return null;
    if (documented) {
      const content = resolve(spec, documented).content as Json | undefined;
      const json = content?.['application/json'] as Json | undefined;
      if (!json) return null;
      schema = json.schema;
    } else if (status >= 400) {
      // GitHub answers 401 on every endpoint but documents it on few: the basic-error shape.
      undocumented.push(key);
      schema = { $ref: '#/components/schemas/basic-error' };
    } else {
      throw new Error(`${key}: status not in the description`);
    }
    const validate = ajv.compile(rebase(schema) as Json);
    validators.set(key, validate);
    return validate;
  }

  function check(request: RecordedForgeRequest): string | null {
    const path = request.path.replace(/^\/api\/v3/, '');
    const template = findTemplate(spec, path);
    if (!template) return `${request.method} ${path}: no such path in the description`;
    const validate = validatorFor(request.method, template, request.status);
    if (validate === null) {
      return request.response === null
        ? null
        : `${request.method} ${template} ${request.status}: a body where none is documented`;
    }
    if (validate(request.response)) return null;
    const errors = (validate.errors ?? [])
      .slice(0, 8)
      .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    return `${request.method} ${template} ${request.status}:\n  ${errors.join('\n  ')}`;
  }

  beforeAll(async () => {
    spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
    ajv = makeAjv(spec);
    forge = await FakeForge.start({ kind: 'github', token: TOKEN });
    await forge.addRepo('me', 'app');
  }, 60_000);

  afterAll(async () => {
    await forge?.close();
  });

  it('rejects a wrong body, so the check below can fail', () => {
    const validate = validatorFor('GET', '/repos/{owner}/{repo}/issues/{issue_number}', 200)!;
    const issue = {
      url: 'https://api.github.com/repos/me/app/issues/1',
      repository_url: 'https://api.github.com/repos/me/app',
      labels_url: 'https://api.github.com/repos/me/app/issues/1/labels',
      comments_url: 'https://api.github.com/repos/me/app/issues/1/comments',
      events_url: 'https://api.github.com/repos/me/app/issues/1/events',
      html_url: 'https://github.com/me/app/issues/1',
      id: 1,
      node_id: 'I_1',
      number: 1,
      title: 't',
      user: null,
      labels: [],
      state: 'open',
      locked: false,
      assignee: null,
      milestone: null,
      comments: 0,
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
      closed_at: null,
    };
    expect(validate(issue), JSON.stringify(validate.errors)).toBe(true);
    const withoutNumber: Partial<typeof issue> = { ...issue };
    delete withoutNumber.number;
    expect(validate(withoutNumber)).toBe(false);
    expect(validate({ ...issue, created_at: 'yesterday' })).toBe(false);
    expect(validate({ ...issue, locked: 'no' })).toBe(false);
  });

  it('answers every endpoint kugetsu uses, success and error, in GitHub’s shapes', async () => {
    const server = {
      name: 'gh',
      kind: 'github' as const,
      url: forge.url,
      host: '127.0.0.1',
      apiUrl: forge.apiUrl,
      tokenEnv: 'GITHUB_TOKEN',
      isDefault: false,
    };
    const api = forgeApiFor(server, TOKEN);
    const issue = forge.addIssue('me', 'app', { title: 'a', body: 'b', labels: ['kugetsu'] });
    forge.addIssue('me', 'app', { title: 'no body', body: '' });
    for (let i = 0; i < 3; i++) forge.addComment('me', 'app', issue, `c${i}`);
    await forge.addBranch('me', 'app', 'kugetsu/gh-1');

    await api.whoami();
    await api.repo('me', 'app');
    await api.issue('me', 'app', issue);
    await api.issueComments('me', 'app', issue);
    await api.createIssueComment('me', 'app', issue, 'hello');
    const pr = await api.createPullRequest('me', 'app', {
      head: 'kugetsu/gh-1',
      base: 'main',
      title: 'Fix',
      body: 'body',
    });
    forge.labelPullRequest('me', 'app', pr.number, 'kugetsu');
    await api.findPullRequest('me', 'app', 'kugetsu/gh-1');
    await api.updatePullRequest('me', 'app', pr.number, { title: 'Fix 2', body: '' });
    const duplicate = api.createPullRequest('me', 'app', {
      head: 'kugetsu/gh-1',
      base: 'main',
      title: 'x',
      body: '',
    });
    await expect(duplicate).rejects.toThrow(/422 Validation Failed: A pull request already exists/);
    await forge.addBranch('me', 'app', 'kugetsu/gh-2');
    const second = await api.createPullRequest('me', 'app', {
      head: 'kugetsu/gh-2',
      base: 'main',
      title: 'Merge me',
      body: '',
    });
    await api.mergePullRequest('me', 'app', second.number);
    await expect(api.mergePullRequest('me', 'app', second.number)).rejects.toThrow(
      /405 Pull Request is not mergeable/,
    );
    forge.mergePullRequest('me', 'app', pr.number);
    await api.pullRequest('me', 'app', pr.number);
    const labelled = await api.openIssuesWithLabel('me', 'app', 'kugetsu', {});
    await api.openIssuesWithLabel('me', 'app', 'kugetsu', { etag: labelled.etag });
    await api.repoCommentsSince('me', 'app', 0, {});
    // Errors: the client throws; the fake's bodies are what is checked.
    const failures = [
      api.createPullRequest('me', 'app', { head: 'missing', base: 'main', title: 'x', body: '' }),
      api.repo('me', 'nope'),
      api.issue('me', 'app', 999),
      api.pullRequest('me', 'app', 999),
      forgeApiFor(server, 'wrong').whoami(),
      forgeApiFor(server, 'wrong').issue('me', 'app', issue),
    ];
    const settled = await Promise.allSettled(failures);
    expect(settled.map((s) => s.status)).toEqual(failures.map(() => 'rejected'));

    const problems = forge.requests.map(check).filter((p): p is string => p !== null);
    expect(problems).toEqual([]);

    const covered = new Set(
      forge.requests.map(
        (r) => `${r.method} ${findTemplate(spec, r.path.replace(/^\/api\/v3/, ''))} ${r.status}`,
      ),
    );
    expect([...covered].sort()).toEqual(
      [
        'GET /user 200',
        'GET /user 401',
        'GET /repos/{owner}/{repo} 200',
        'GET /repos/{owner}/{repo} 404',
        'GET /repos/{owner}/{repo}/issues/{issue_number} 200',
        'GET /repos/{owner}/{repo}/issues/{issue_number} 401',
        'GET /repos/{owner}/{repo}/issues/{issue_number} 404',
        'GET /repos/{owner}/{repo}/issues/{issue_number}/comments 200',
        'POST /repos/{owner}/{repo}/issues/{issue_number}/comments 201',
        'POST /repos/{owner}/{repo}/pulls 201',
        'POST /repos/{owner}/{repo}/pulls 422',
        'GET /repos/{owner}/{repo}/pulls 200',
        'PATCH /repos/{owner}/{repo}/pulls/{pull_number} 200',
        'GET /repos/{owner}/{repo}/pulls/{pull_number} 200',
        'GET /repos/{owner}/{repo}/pulls/{pull_number} 404',
        'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge 200',
        'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge 405',
        'GET /repos/{owner}/{repo}/issues 200',
        'GET /repos/{owner}/{repo}/issues 304',
        'GET /repos/{owner}/{repo}/issues/comments 200',
      ].sort(),
    );
    // Only the 401s fall back to basic-error: everything else is documented.
    expect(undocumented.every((key) => key.endsWith(' 401'))).toBe(true);
  }, 60_000);
});
