/**
 * opencode driven through its server, without the server: its permission rules from the policy,
 * the category and reply of what it asks, its events read as `opencode run --format json` reads
 * them, and the driver's conversation against a stand-in server. The event streams in
 * test/fixtures/opencode-server are the real `/event` streams of opencode 1.18.33 (`opencode
 * serve` against the scripted model server, one session each, bash/edit/webfetch/
 * external_directory asked about through a session rule, external_directory refused by one, a
 * question asked); `run-bash.jsonl` is
 * `opencode run --format json` on the same script as `serve-bash-once.jsonl`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApprovalAnswer, ApprovalRequest } from '../core/approvals/approval.js';
import { DEFAULT_POLICY_TEXT, parsePolicy, policyFor } from '../core/approvals/policy.js';
import type { DriverIo } from '../core/agents/agent-backend.js';
import { opencodeDriver, type OpencodeRunSpec } from '../core/agents/opencode/opencode-driver.js';
import {
  EventReader,
  EventStreamParser,
  listeningUrl,
  serverEvent,
  type ServerEvent,
} from '../core/agents/opencode/opencode-events.js';
import type { HttpRequest, HttpTransport } from '../core/agents/opencode/opencode-http.js';
import { opencodeOutputParser } from '../core/agents/opencode/opencode-output.js';
import {
  categoryOf,
  configPermission,
  permissionEnv,
  permissionReply,
  permissionRequest,
  questionAnswers,
  questionRequest,
  rulesToAppend,
  sessionRules,
  type PermissionAsked,
  type QuestionAsked,
} from '../core/agents/opencode/opencode-permissions.js';
import { MASK } from '../core/secrets.js';
import { FIXTURES } from './helpers/sandbox.js';

const by = { channel: 'cli' as const, who: 'alice' };
const DEFAULT = policyFor(parsePolicy(DEFAULT_POLICY_TEXT), 'opencode');
const UNATTENDED = policyFor(
  parsePolicy('bash=allow,edit=allow,outside=allow,network=allow,other=allow'),
  'opencode',
);
const none = { writableDirs: [], allowedCommands: [] };

function fixture(name: string): ServerEvent[] {
  return readFileSync(join(FIXTURES, 'opencode-server', name), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => serverEvent(l))
    .filter((e): e is ServerEvent => e !== null);
}

function sessionOf(events: ServerEvent[]): string {
  const created = events.find((e) => e.type === 'session.created');
  return (created?.properties['info'] as { id: string }).id;
}

function asked<T>(events: ServerEvent[], type: string): T {
  return events.find((e) => e.type === type)?.properties as T;
}

describe('opencode permission rules from the policy', () => {
  it('the default policy: every tool asks but reading and edits; questions reach kugetsu', () => {
    const rules = sessionRules(DEFAULT, none);
    // Last matching rule wins, as opencode evaluates them.
    const action = (permission: string, pattern = 'x'): string | undefined =>
      rules.findLast(
        (r) =>
          (r.permission === '*' || r.permission === permission) &&
          (r.pattern === '*' || r.pattern === pattern || pattern.endsWith(r.pattern.slice(1))),
      )?.action;
    expect(rules[0]).toEqual({ permission: '*', pattern: '*', action: 'ask' });
    expect(action('bash')).toBe('ask');
    expect(action('edit')).toBe('allow');
    expect(action('external_directory')).toBe('ask');
    expect(action('webfetch')).toBe('ask');
    expect(action('websearch')).toBe('ask');
    expect(action('read', 'src/a.ts')).toBe('allow');
    expect(action('read', '/w/.env')).toBe('ask');
    expect(action('read', '/w/.env.example')).toBe('allow');
    expect(action('grep')).toBe('allow');
    expect(action('task')).toBe('allow');
    expect(action('mymcp_delete_everything')).toBe('ask');
    expect(action('question')).toBe('allow');
    expect(action('plan_enter')).toBe('deny');
  });

  it('a policy that allows everything leaves opencode’s own rules alone', () => {
    expect(sessionRules(UNATTENDED, none)).toEqual([
      { permission: 'question', pattern: '*', action: 'allow' },
      { permission: 'plan_enter', pattern: '*', action: 'deny' },
      { permission: 'plan_exit', pattern: '*', action: 'deny' },
    ]);
    expect(configPermission(UNATTENDED, none)).toEqual({});
  });

  it('deny is opencode’s own deny; the repository and allowed commands stay open', () => {
    const policy = { ...DEFAULT, network: 'deny', question: 'deny' } as const;
    const rules = sessionRules(policy, {
      writableDirs: ['/k/mirror.git'],
      allowedCommands: ['kugetsu'],
    });
    expect(rules).toContainEqual({ permission: 'webfetch', pattern: '*', action: 'deny' });
    expect(rules).toContainEqual({ permission: 'question', pattern: '*', action: 'deny' });
    expect(rules).toContainEqual({
      permission: 'external_directory',
      pattern: '/k/mirror.git/*',
      action: 'allow',
    });
    const bash = rules.filter((r) => r.permission === 'bash');
    expect(bash.map((r) => [r.pattern, r.action])).toEqual([
      ['*', 'ask'],
      ['kugetsu', 'allow'],
      ['kugetsu *', 'allow'],
    ]);
    // Subagents read the config: what asks or is refused reaches them there too.
    expect(configPermission(policy, { allowedCommands: ['kugetsu'] })).toEqual({
      bash: { '*': 'ask', kugetsu: 'allow', 'kugetsu *': 'allow' },
      webfetch: 'deny',
      websearch: 'deny',
      codesearch: 'deny',
      question: 'deny',
    });
  });

  it('OPENCODE_PERMISSION keeps the user’s own keys under kugetsu’s', () => {
    expect(JSON.parse(permissionEnv('{"edit":"deny","bash":"allow"}', { bash: 'ask' }))).toEqual({
      edit: 'deny',
      bash: 'ask',
    });
    expect(permissionEnv('not json', { bash: 'ask' })).toBe('{"bash":"ask"}');
    expect(permissionEnv(undefined, {})).toBe('{}');
  });

  it('a session continued under the same policy gets no second copy of its rules', () => {
    const rules = sessionRules(DEFAULT, none);
    const fromRun = [{ permission: 'question', pattern: '*', action: 'deny' as const }];
    expect(rulesToAppend(undefined, rules)).toEqual(rules);
    expect(rulesToAppend(fromRun, rules)).toEqual(rules);
    expect(rulesToAppend([...fromRun, ...rules], rules)).toEqual([]);
    expect(rulesToAppend([...rules, ...fromRun], rules)).toEqual(rules);
  });
});

describe('what opencode asks, in kugetsu’s terms', () => {
  it('maps opencode’s permissions to categories', () => {
    expect(categoryOf('bash')).toBe('bash');
    expect(categoryOf('edit')).toBe('edit');
    expect(categoryOf('external_directory')).toBe('outside');
    expect(categoryOf('webfetch')).toBe('network');
    expect(categoryOf('websearch')).toBe('network');
    expect(categoryOf('doom_loop')).toBe('other');
    expect(categoryOf('mymcp_tool')).toBe('other');
  });

  it('a command: the command, with the agent’s description as the reason', () => {
    const events = fixture('serve-bash-once.jsonl');
    const request = permissionRequest(asked<PermissionAsked>(events, 'permission.asked'), {
      tool: 'bash',
      input: { command: 'echo hi > hi.txt', description: 'Run a command' },
    });
    expect(request).toEqual({
      kind: 'permission',
      tool: 'bash',
      category: 'bash',
      subject: 'echo hi > hi.txt',
      reason: 'Run a command',
      options: [],
    });
  });

  it('outside the worktree: the directory, and the command it is for', () => {
    const events = fixture('serve-outside.jsonl');
    const request = permissionRequest(asked<PermissionAsked>(events, 'permission.asked'), {
      tool: 'bash',
      input: { command: 'rm -f /tmp/oc/outside.txt' },
    });
    expect(request).toMatchObject({
      tool: 'bash',
      category: 'outside',
      subject: '/tmp/oc',
      reason: 'for rm -f /tmp/oc/outside.txt',
    });
  });

  it('an edit and a fetch: the file and the URL', () => {
    const edit = permissionRequest(
      asked<PermissionAsked>(fixture('serve-edit.jsonl'), 'permission.asked'),
      null,
    );
    expect(edit).toMatchObject({ category: 'edit', subject: '/tmp/oc/wt/new.txt' });
    const fetch = permissionRequest(
      asked<PermissionAsked>(fixture('serve-webfetch.jsonl'), 'permission.asked'),
      null,
    );
    expect(fetch).toMatchObject({ category: 'network', subject: 'http://127.0.0.1:9/x' });
  });

  it('a question, with its offered answers', () => {
    const question = asked<QuestionAsked>(fixture('serve-question.jsonl'), 'question.asked');
    expect(questionRequest(question)).toEqual({
      kind: 'question',
      tool: 'question',
      category: 'question',
      subject: 'Which colour?',
      reason: 'Colour',
      options: ['red', 'blue'],
    });
    expect(questionAnswers(question, { decision: 'answer', text: 'green', by })).toEqual([
      ['green'],
    ]);
    // Refused, the model hears why instead of its turn being ended.
    expect(questionAnswers(question, { decision: 'deny', message: 'decide yourself', by })).toEqual(
      [['decide yourself']],
    );
  });

  it('answers become replies: once, always for the task, reject with what the model is told', () => {
    expect(permissionReply({ decision: 'allow', scope: 'once', by })).toEqual({ reply: 'once' });
    expect(permissionReply({ decision: 'allow', scope: 'task', by })).toEqual({ reply: 'always' });
    expect(permissionReply({ decision: 'deny', message: 'not today', by })).toEqual({
      reply: 'reject',
      message: 'not today',
    });
  });
});

describe('opencode server events read as opencode run prints them', () => {
  const translate = (events: ServerEvent[]): { lines: string[]; reader: EventReader } => {
    const reader = new EventReader(sessionOf(events), () => 0);
    const lines = events.flatMap((e) => reader.read(e).lines);
    return { lines, reader };
  };
  const shape = (line: string): string[] => {
    const event = JSON.parse(line) as {
      type: string;
      part: { type: string; tool?: string; state?: { status: string }; text?: string };
    };
    const p = event.part;
    return [event.type, p.type, p.tool ?? '', p.state?.status ?? '', p.text ?? ''];
  };

  it('the same lines, in the same order, as opencode run on the same script', () => {
    const { lines } = translate(fixture('serve-bash-once.jsonl'));
    const run = readFileSync(join(FIXTURES, 'opencode-server', 'run-bash.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.map(shape)).toEqual(run.map(shape));
    // And the output parser reads them as it reads opencode run.
    const fromServe = opencodeOutputParser();
    for (const line of lines) fromServe.line(line);
    const fromRun = opencodeOutputParser();
    for (const line of run) fromRun.line(line);
    expect(fromServe.report()).toMatchObject({
      usage: fromRun.report().usage,
      finalText: 'DONE',
      question: null,
      error: null,
    });
    expect(fromServe.report().sessionId).toMatch(/^ses_/);
  });

  it('a denial kugetsu answered was told to the model: its answer is the result, no question', () => {
    const { lines } = translate(fixture('serve-bash-rejected.jsonl'));
    const parser = opencodeOutputParser();
    const shownLines = lines.flatMap((line) => parser.line(line).display);
    expect(shownLines).toContain(
      '  ! The user rejected permission to use this specific tool call with the following feedback: Not allowed: use something else',
    );
    expect(parser.report().question).toBeNull();
    expect(parser.report().finalText).toBe('I was told no');
  });

  it('a call a deny rule refused, nobody asked, is a question for the user', () => {
    const { lines } = translate(fixture('serve-outside-denied.jsonl'));
    const parser = opencodeOutputParser();
    for (const line of lines) parser.line(line);
    expect(parser.report().question).toContain(
      'refused permission for: bash rm -f /tmp/oc/outside.txt',
    );
  });

  it('hands over what must be answered, and says when the turn is over', () => {
    const events = fixture('serve-bash-once.jsonl');
    const reader = new EventReader(sessionOf(events));
    const readings = events.map((e) => reader.read(e));
    expect(readings.filter((r) => r.permission !== undefined)).toHaveLength(1);
    expect(readings.filter((r) => r.settled !== undefined)).toHaveLength(1);
    expect(readings.findIndex((r) => r.idle === true)).toBeGreaterThan(
      readings.findIndex((r) => r.permission !== undefined),
    );
    const question = fixture('serve-question.jsonl');
    const qReader = new EventReader(sessionOf(question));
    expect(question.map((e) => qReader.read(e)).some((r) => r.question !== undefined)).toBe(true);
  });

  it('another session’s events are not this run’s, a subagent’s requests are', () => {
    const reader = new EventReader('ses_main');
    const ask = (sessionID: string): ServerEvent => ({
      type: 'permission.asked',
      properties: { id: 'per_1', sessionID, permission: 'bash', patterns: ['ls'], metadata: {} },
    });
    expect(reader.read(ask('ses_other')).permission).toBeUndefined();
    reader.read({
      type: 'session.created',
      properties: { info: { id: 'ses_child', parentID: 'ses_main' } },
    });
    expect(reader.read(ask('ses_child')).permission?.id).toBe('per_1');
    expect(
      reader.read({
        type: 'session.status',
        properties: { sessionID: 'ses_child', status: { type: 'idle' } },
      }).idle,
    ).toBeUndefined();
  });

  it('a session error becomes an error line and the run’s error', () => {
    const reader = new EventReader('ses_main', () => 0);
    const error = { name: 'APIError', data: { message: 'invalid api key', statusCode: 401 } };
    const { lines } = reader.read({
      type: 'session.error',
      properties: { sessionID: 'ses_main', error },
    });
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      type: 'error',
      timestamp: 0,
      sessionID: 'ses_main',
      error,
    });
    expect(reader.error).toBe('invalid api key');
    const parser = opencodeOutputParser();
    expect(parser.line(lines[0] ?? '').fatal?.kind).toBe('auth');
  });

  it('reads the start-up line and server-sent event framing', () => {
    expect(listeningUrl('opencode server listening on http://127.0.0.1:4096')).toBe(
      'http://127.0.0.1:4096',
    );
    expect(listeningUrl('Warning: OPENCODE_SERVER_PASSWORD is not set')).toBeNull();
    const parser = new EventStreamParser();
    expect(parser.push('data: {"type":"a"}\r\n\r\ndata: {"ty')).toEqual(['{"type":"a"}']);
    expect(parser.push('pe":"b"}\n\n')).toEqual(['{"type":"b"}']);
    expect(serverEvent('not json')).toBeNull();
  });
});

/** A stand-in for the server: the fixture's events on `/event`, and every request recorded. */
function fakeServer(
  events: ServerEvent[],
  routes: Record<string, (body: unknown) => { status: number; body?: unknown }> = {},
): {
  transport: HttpTransport;
  requests: { method: string; url: URL; body: unknown; auth: string }[];
  closed: () => boolean;
} {
  const requests: { method: string; url: URL; body: unknown; auth: string }[] = [];
  const sessionID = sessionOf(events);
  let closed = false;
  const record = (request: HttpRequest): URL => {
    const url = new URL(request.url);
    const body: unknown = request.body === undefined ? undefined : JSON.parse(request.body);
    requests.push({
      method: request.method,
      url,
      body,
      auth: request.headers['authorization'] ?? '',
    });
    return url;
  };
  const transport: HttpTransport = {
    send(request) {
      const url = record(request);
      const body = requests.at(-1)?.body;
      const route = routes[`${request.method} ${url.pathname}`];
      const reply = (status: number, out?: unknown) =>
        Promise.resolve({ status, text: out === undefined ? '' : JSON.stringify(out) });
      if (route !== undefined) {
        const { status, body: out } = route(body);
        return reply(status, out);
      }
      if (request.method === 'POST' && url.pathname === '/session')
        return reply(200, { id: sessionID });
      if (url.pathname.endsWith('/prompt_async')) return reply(204);
      if (url.pathname.endsWith('/reply')) return reply(200, true);
      return reply(404, { name: 'NotFoundError' });
    },
    stream(request) {
      record(request);
      const encoder = new TextEncoder();
      async function* body(): AsyncIterable<Uint8Array> {
        for (const event of events) {
          await Promise.resolve();
          yield encoder.encode(`data: ${JSON.stringify(event)}\n\n`);
        }
      }
      return Promise.resolve({ status: 200, body: body() });
    },
    close() {
      closed = true;
    },
  };
  return { transport, requests, closed: () => closed };
}

function driverIo(answer: (request: ApprovalRequest) => ApprovalAnswer): {
  io: DriverIo;
  emitted: string[];
  asked: ApprovalRequest[];
  finished: Promise<{ error: string | null }>;
} {
  const emitted: string[] = [];
  const asked: ApprovalRequest[] = [];
  let done: (result: { error: string | null }) => void = () => undefined;
  const finished = new Promise<{ error: string | null }>((resolve) => (done = resolve));
  // As runAgent does: finishing ends the process group and aborts the run.
  const stopped = new AbortController();
  const io: DriverIo = {
    write: () => undefined,
    endInput: () => undefined,
    emit: (line) => emitted.push(line),
    ask: (request) => {
      asked.push(request);
      return Promise.resolve(answer(request));
    },
    note: () => undefined,
    finish: (result) => {
      done(result);
      stopped.abort();
    },
    signal: stopped.signal,
  };
  return { io, emitted, asked, finished };
}

const spec = (over: Partial<OpencodeRunSpec> = {}): OpencodeRunSpec => ({
  worktree: '/w/app 1',
  prompt: 'Do it [[ask]]',
  model: 'scripted/m',
  session: { kind: 'new' },
  images: [],
  rules: sessionRules(DEFAULT, none),
  username: 'kugetsu',
  password: 'pw-Secret-1234',
  ...over,
});

describe('the opencode driver against a stand-in server', () => {
  it('opens a session with the rules, prompts, relays the ask and its answer, ends on idle', async () => {
    const events = fixture('serve-bash-once.jsonl');
    const server = fakeServer(events);
    const driver = opencodeDriver(spec(), server.transport);
    const { io, emitted, asked, finished } = driverIo(() => ({
      decision: 'allow',
      scope: 'task',
      by,
    }));
    driver.start(io);
    driver.line('opencode server listening on http://127.0.0.1:4096');
    expect(await finished).toEqual({ error: null });
    // The run's connections went with it.
    expect(server.closed()).toBe(true);

    const calls = server.requests.map((r) => `${r.method} ${r.url.pathname}`);
    expect(calls.slice(0, 3)).toEqual([
      'GET /event',
      'POST /session',
      `POST /session/${sessionOf(events)}/prompt_async`,
    ]);
    expect(server.requests[1]?.body).toEqual({ permission: sessionRules(DEFAULT, none) });
    expect(server.requests[2]?.body).toEqual({
      parts: [{ type: 'text', text: 'Do it [[ask]]' }],
      model: { providerID: 'scripted', modelID: 'm' },
    });
    const reply = server.requests.find((r) => r.url.pathname.endsWith('/reply'));
    expect(reply?.url.pathname).toMatch(/^\/permission\/per_[A-Za-z0-9]+\/reply$/);
    expect(reply?.body).toEqual({ reply: 'always' });
    // Every request names the worktree's instance and carries the run's credentials only there.
    for (const request of server.requests) {
      expect(request.url.searchParams.get('directory')).toBe('/w/app 1');
      expect(request.auth).toBe(
        `Basic ${Buffer.from('kugetsu:pw-Secret-1234').toString('base64')}`,
      );
      expect(request.url.href).not.toContain('pw-Secret-1234');
    }
    expect(asked).toEqual([
      {
        kind: 'permission',
        tool: 'bash',
        category: 'bash',
        subject: 'echo hi > hi.txt',
        reason: 'Run a command',
        options: [],
      },
    ]);
    expect(emitted.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual([
      'step_start',
      'tool_use',
      'step_finish',
      'step_start',
      'text',
      'step_finish',
    ]);
  });

  it('the server’s password never reaches a line or a request', async () => {
    const events = fixture('serve-bash-once.jsonl');
    const server = fakeServer(events);
    // As if a command had printed the server's environment.
    const driver = opencodeDriver(spec({ password: 'hi.txt' }), server.transport);
    const { io, emitted, asked, finished } = driverIo(() => ({
      decision: 'allow',
      scope: 'once',
      by,
    }));
    driver.start(io);
    driver.line('opencode server listening on http://127.0.0.1:4096');
    await finished;
    expect(emitted.join('\n')).not.toContain('hi.txt');
    expect(emitted.join('\n')).toContain(MASK);
    expect(asked[0]?.subject).toBe(`echo hi > ${MASK}`);
  });

  it('a question is answered with the person’s text', async () => {
    const events = fixture('serve-question.jsonl');
    const server = fakeServer(events);
    const driver = opencodeDriver(spec({ prompt: 'Do it [[q]]' }), server.transport);
    const { io, asked, finished } = driverIo(() => ({ decision: 'answer', text: 'green', by }));
    driver.start(io);
    driver.line('opencode server listening on http://127.0.0.1:4096');
    expect(await finished).toEqual({ error: null });
    expect(asked[0]).toMatchObject({ kind: 'question', subject: 'Which colour?' });
    const reply = server.requests.find((r) => r.url.pathname.startsWith('/question/'));
    expect(reply?.body).toEqual({ answers: [['green']] });
  });

  it('a continued session gets the rules it lacks, then the prompt; a lost one is an error', async () => {
    const events = fixture('serve-bash-rejected.jsonl');
    const id = sessionOf(events);
    const rules = sessionRules(DEFAULT, none);
    const server = fakeServer(events, {
      [`GET /session/${id}`]: () => ({ status: 200, body: { id, permission: [] } }),
      [`PATCH /session/${id}`]: () => ({ status: 200, body: { id } }),
    });
    const driver = opencodeDriver(
      spec({ session: { kind: 'continue', sessionID: id } }),
      server.transport,
    );
    const { io, finished } = driverIo(() => ({ decision: 'deny', message: 'no', by }));
    driver.start(io);
    driver.line('opencode server listening on http://127.0.0.1:4096');
    expect(await finished).toEqual({ error: null });
    const calls = server.requests.map((r) => `${r.method} ${r.url.pathname}`);
    expect(calls.slice(0, 4)).toEqual([
      'GET /event',
      `GET /session/${id}`,
      `PATCH /session/${id}`,
      `POST /session/${id}/prompt_async`,
    ]);
    expect(server.requests[2]?.body).toEqual({ permission: rules });
    const reply = server.requests.find((r) => r.url.pathname.endsWith('/reply'));
    expect(reply?.body).toEqual({ reply: 'reject', message: 'no' });

    const lost = opencodeDriver(
      spec({ session: { kind: 'continue', sessionID: 'ses_gone' } }),
      fakeServer(events).transport,
    );
    const second = driverIo(() => ({ decision: 'deny', message: 'no', by }));
    lost.start(second.io);
    lost.line('opencode server listening on http://127.0.0.1:4096');
    expect((await second.finished).error).toBe(
      'opencode: opencode has no session ses_gone (Session not found)',
    );
  });

  it('a refused prompt ends the run with the server’s answer', async () => {
    const events = fixture('serve-bash-once.jsonl');
    const server = fakeServer(events, {
      [`POST /session/${sessionOf(events)}/prompt_async`]: () => ({
        status: 400,
        body: { name: 'BadRequest', data: { message: 'unknown model' } },
      }),
    });
    const driver = opencodeDriver(spec(), server.transport);
    const { io, finished } = driverIo(() => ({ decision: 'deny', message: 'no', by }));
    driver.start(io);
    driver.line('opencode server listening on http://127.0.0.1:4096');
    expect((await finished).error).toMatch(
      /^opencode: POST \/session\/ses_\w+\/prompt_async: HTTP 400 .*unknown model/,
    );
  });
});
