/**
 * The HTTP API's gate, through the real server of a real daemon: no token, a wrong one, a
 * read-only one, a revoked one; login links; validation; the rate limit; and hostile input —
 * huge bodies, bad JSON, path tricks. Nothing hostile may change the home.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, createToken, daemonWithApi, freePort } from './helpers/api-client.js';
import { Sandbox, fixture } from './helpers/sandbox.js';

interface Problem {
  code: string;
  status: number;
  detail: string;
  field?: string;
}

describe('HTTP API: auth, validation and hostile input', () => {
  let sb: Sandbox;
  let api: ApiClient;

  beforeAll(async () => {
    sb = new Sandbox({
      KUGETSU_AGENT_COMMAND: fixture('echo-agent.sh'),
      KUGETSU_HTTP_RATE_LIMIT: '60',
    });
    await sb.setup();
    api = await daemonWithApi(sb);
  });
  afterAll(() => sb.cleanup());

  it('answers 401 without a token or with a wrong one, as problem+json', async () => {
    for (const client of [
      api.withToken(null),
      api.withToken('kgt_wrong'),
      api.withToken('x'.repeat(43)),
    ]) {
      const res = await client.get<Problem>('/api/v1/tasks');
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(res.body.code).toBe('unauthorized');
    }
    const malformed = await api.request<Problem>('GET', '/api/v1/tasks', undefined, {
      authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
    });
    expect(malformed.status).toBe(401);
  });

  it('lets a read-only token read but not change anything (403), and a revoked one nothing', async () => {
    const reader = api.withToken(await createToken(sb, 'reader', true));
    expect((await reader.get('/api/v1/sessions')).status).toBe(200);
    // Who it is, so a client can leave out what it may not do; never the token itself.
    const me = await reader.get<{ name: string; readOnly: boolean; createdAt: number }>(
      '/api/v1/auth/me',
    );
    expect(me.body).toEqual({ name: 'reader', readOnly: true, createdAt: me.body.createdAt });
    expect(me.body.createdAt).toBeGreaterThan(0);
    expect((await api.get<{ readOnly: boolean }>('/api/v1/auth/me')).body.readOnly).toBe(false);
    const before = sb.stateSnapshot();
    for (const [path, body] of [
      ['/api/v1/tasks', { message: 'work on #5' }],
      ['/api/v1/tasks/stop', { ref: 'local/me/app#5' }],
      ['/api/v1/events/read', {}],
      ['/api/v1/sessions/prune', { force: true }],
      ['/api/v1/queue/clear', { all: true }],
    ] as const) {
      const res = await reader.post<Problem>(path, body);
      expect(res.status, path).toBe(403);
      expect(res.body.code).toBe('read_only');
    }
    expect(sb.stateSnapshot()).toBe(before);

    const listed = await sb.json<{ tokens: { name: string; readOnly: boolean }[] }>([
      'api',
      'token',
      'list',
    ]);
    expect(listed.tokens).toContainEqual(
      expect.objectContaining({ name: 'reader', readOnly: true }),
    );
    expect(JSON.stringify(listed)).not.toContain('kgt_');
    await sb.ok(['api', 'token', 'revoke', 'reader']);
    expect((await reader.get<Problem>('/api/v1/sessions')).body.code).toBe('unauthorized');
    expect((await sb.cli(['api', 'token', 'revoke', 'reader'])).code).toBe(1);
  });

  it('exchanges a login-link code for a token once, and never an unknown one', async () => {
    const { url } = await sb.json<{ url: string }>(['api', 'login-link', '--read-only']);
    expect(url).toMatch(new RegExp(`^${api.base}/#login=[A-Za-z0-9_-]{32}$`));
    const code = url.split('#login=')[1] ?? '';
    const anonymous = api.withToken(null);
    const first = await anonymous.post<{ token: string; name: string; readOnly: boolean }>(
      '/api/v1/auth/login',
      { code },
    );
    expect(first.status).toBe(201);
    expect(first.body.readOnly).toBe(true);
    expect(first.body.name).toMatch(/^browser-/);
    expect((await api.withToken(first.body.token).get('/api/v1/tasks')).status).toBe(200);
    expect((await api.withToken(first.body.token).post('/api/v1/events/read')).status).toBe(403);
    const again = await anonymous.post<Problem>('/api/v1/auth/login', { code });
    expect(again.status).toBe(401);
    expect(
      (await anonymous.post<Problem>('/api/v1/auth/login', { code: 'A'.repeat(32) })).status,
    ).toBe(401);
    expect(
      (await anonymous.post<Problem>('/api/v1/auth/login', { code: '../../etc' })).body.field,
    ).toBe('body.code');
  });

  it('validates requests with zod: 400 naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/tasks', {}, 'body.message'],
      ['POST', '/api/v1/tasks', { message: 'x', agent: 'nope' }, 'body.agent'],
      ['POST', '/api/v1/tasks', { message: 'x', model: 'two words' }, 'body.model'],
      ['POST', '/api/v1/tasks', { message: 'x', extra: 1 }, 'body'],
      ['POST', '/api/v1/tasks', [1, 2], 'body'],
      ['POST', '/api/v1/tasks/continue', { ref: 'local/me/app#1' }, 'body.message'],
      ['POST', '/api/v1/sessions/destroy', { ref: 'local/me/app#1', force: 'yes' }, 'body.force'],
      ['GET', '/api/v1/tasks?state=bogus', undefined, 'query.state'],
      ['GET', '/api/v1/tasks?limit=0', undefined, 'query.limit'],
      ['GET', '/api/v1/tasks/0', undefined, 'path.id'],
      ['GET', '/api/v1/tasks/12abc', undefined, 'path.id'],
      ['GET', '/api/v1/events?after=-1', undefined, 'query.after'],
      ['POST', '/api/v1/approvals/1/approve', { scope: 'forever' }, 'body.scope'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await api.request<Problem>(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_request', field });
    }
    // An operation's own refusal of the input is a 400 too; what does not exist is a 404.
    expect(
      (await api.post<Problem>('/api/v1/tasks/start', { ref: 'nowhere/x/y#1', message: 'x' }))
        .status,
    ).toBe(400);
    expect((await api.get<Problem>('/api/v1/tasks/999999')).body).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect((await api.get<Problem>('/api/v1/servers/nope')).status).toBe(404);
  });

  it('refuses hostile input without changing anything', async () => {
    const before = sb.stateSnapshot();
    const huge = await api.request<Problem>(
      'POST',
      '/api/v1/tasks',
      JSON.stringify({ message: 'a'.repeat(200_000) }),
    );
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('payload_too_large');
    // The unread rest of the body spoils the connection: the server says so, and the client's
    // next request goes out on a fresh one (a reused socket would fail "other side closed").
    expect(huge.headers.get('connection')).toBe('close');
    expect((await api.get('/api/v1/queue/stats')).status).toBe(200);
    expect((await chunkedUpload(api, 5_000_000)).status).toBe(413);
    for (const bad of ['{"message":', '{message: "x"}', '\u0000', '{"message":"x"}}']) {
      const res = await api.request<Problem>('POST', '/api/v1/tasks', bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.code).toBe('invalid_json');
    }
    const nul = await api.post<Problem>('/api/v1/tasks', { message: 'a\u0000b' });
    expect(nul.status).toBe(400);
    const deep = await api.request<Problem>(
      'POST',
      '/api/v1/tasks',
      `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
    );
    expect(deep.status).toBe(400);
    for (const path of [
      '/api/v1/tasks/..%2f..',
      '/api/v1/tasks/..%2F..%2Fkugetsu.db',
      '/api/v1/tasks/%2e%2e/%2e%2e/openapi.json/../tasks',
      '/api/v1/tasks/1%00',
      '/api/v1/servers/..%2f..%2fetc%2fpasswd',
      '/api/v1/../../etc/passwd',
    ]) {
      const res = await rawGet(api, path);
      expect([400, 404], path).toContain(res.status);
      expect(res.body).not.toContain('root:');
      expect(res.body).toMatch(/"code":"(invalid_request|not_found)"/);
    }
    expect(sb.stateSnapshot()).toBe(before);
  });

  it('rate-limits each token on its own: 429 with Retry-After', async () => {
    const own = api.withToken(await createToken(sb, 'flood'));
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 65; i += 1) {
      const res = await own.get('/api/v1/queue/stats');
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(59);
    // The bucket refills one request a second, so on a slow machine a late request may pass.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // Another token is not held back by this one's flood.
    expect((await api.get('/api/v1/queue/stats')).status).toBe(200);
  });

  it('sends no CORS headers unless KUGETSU_HTTP_CORS_ORIGIN is set; / is the dashboard', async () => {
    const preflight = await fetch(`${api.base}/api/v1/tasks`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const root = await fetch(`${api.base}/`, { headers: { origin: 'https://evil.example' } });
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(root.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a daemon that cannot take its port logs why and runs the queue anyway', async () => {
    const other = new Sandbox({ KUGETSU_HTTP_LISTEN: new URL(api.base).host });
    try {
      await other.setup();
      await other.ok(['daemon', 'start']);
      await other.until('the log line', async () =>
        (await other.ok(['daemon', 'logs'])).includes('http api cannot listen on'),
      );
      expect((await other.cli(['daemon', 'status'])).code).toBe(0);
      // The port still belongs to the first daemon's API.
      expect((await api.get('/api/v1/status')).status).toBe(200);
    } finally {
      await other.cleanup();
    }
  });

  it('`kugetsu serve` runs the API alone, with CORS for the one origin configured', async () => {
    const port = await freePort();
    const child = sb.cli(['serve', '--listen', `127.0.0.1:${port}`], {
      env: { KUGETSU_HTTP_CORS_ORIGIN: 'https://dash.example' },
      timeoutMs: 60_000,
    });
    const served = new ApiClient(`http://127.0.0.1:${port}`, api.token);
    await sb.until(
      'serve to answer',
      async () => (await served.get('/api/v1/status').catch(() => null))?.status === 200,
    );
    const allowed = await fetch(`${served.base}/api/v1/tasks`, {
      method: 'OPTIONS',
      headers: { origin: 'https://dash.example', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example');
    const other = await fetch(`${served.base}/api/v1/tasks`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    expect((await sb.cli(['serve', '--listen', 'nowhere'])).code).toBe(2);
    const pid = await servePid(port);
    process.kill(pid, 'SIGTERM');
    expect((await child).code).toBe(0);
  });
});

/** A body sent in chunks with no Content-Length: the limit must hold while it streams. */
function chunkedUpload(api: ApiClient, bytes: number): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL('/api/v1/tasks', api.base);
    const req = request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${api.token ?? ''}`,
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('error', (err) =>
      /EPIPE|ECONNRESET/.test(String(err)) ? resolve({ status: 413 }) : reject(err),
    );
    const chunk = 'a'.repeat(64 * 1024);
    req.write('{"message":"');
    const write = (left: number): void => {
      if (left <= 0) return void req.end('"}');
      if (req.write(chunk)) setImmediate(() => write(left - chunk.length));
      else req.once('drain', () => write(left - chunk.length));
    };
    write(bytes);
  });
}

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(api: ApiClient, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(api.base);
    const req = request(
      { hostname, port, path, headers: { authorization: `Bearer ${api.token ?? ''}` } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The pid of the `kugetsu serve` child listening on `port`, from /proc. */
async function servePid(port: number): Promise<number> {
  const { readdirSync, readFileSync } = await import('node:fs');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes('serve') && args.includes(`127.0.0.1:${port}`)) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  throw new Error(`no serve process on port ${port}`);
}
