/**
 * claude's permission-prompt tool: the pure mappings (what claude asks → kugetsu requests,
 * answers → claude's JSON, policy → claude's flags), the MCP server on in-memory streams, and
 * `kugetsu mcp permissions` in-process against a real home.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runningPmTask } from './helpers/running-task.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentRunRequest } from '../core/agents/agent-backend.js';
import { claudeBackend } from '../core/agents/claude/claude-backend.js';
import { claudeOutputParser } from '../core/agents/claude/claude-output.js';
import {
  claudeAsk,
  permissionResult,
  questionsResult,
  type AskContext,
} from '../core/agents/claude/claude-permissions.js';
import {
  PERMISSION_PROMPT_TOOL,
  claudePermissionFlags,
} from '../core/agents/claude/claude-policy.js';
import { serveMcp, type McpTool } from '../core/agents/claude/mcp-server.js';
import { servePermissions } from '../core/agents/claude/permission-server.js';
import type { ApprovalAnswer } from '../core/approvals/approval.js';
import { DEFAULT_POLICY_TEXT, parsePolicy, policyFor } from '../core/approvals/policy.js';
import { openSqliteStore, type SqliteStore } from '../core/store/sqlite/sqlite-store.js';

const WT = '/work/wt';
const inWorktree: AskContext = { roots: [WT, '/real/wt'], permissionMode: 'default' };
const acceptEdits: AskContext = { ...inWorktree, permissionMode: 'acceptEdits' };
const phone = { channel: 'telegram' as const, who: '@alice' };
const policy = (text: string) => policyFor(parsePolicy(text), 'claude');

describe('what claude asks, as kugetsu requests', () => {
  const request = (tool: string, input: Record<string, unknown>, context = inWorktree) => {
    const asked = claudeAsk(tool, input, context);
    if (asked.kind !== 'permission') throw new Error('expected a permission');
    return asked.request;
  };

  it('a command is bash, with its description as the reason', () => {
    expect(request('Bash', { command: 'npm test', description: 'Run the tests' })).toEqual({
      kind: 'permission',
      tool: 'Bash',
      category: 'bash',
      subject: 'npm test',
      reason: 'Run the tests',
      options: [],
    });
  });

  it('an edit is edit inside the worktree (either path of it) and outside beyond it', () => {
    expect(request('Edit', { file_path: `${WT}/src/a.ts` })).toMatchObject({
      category: 'edit',
      subject: 'src/a.ts',
    });
    expect(request('Write', { file_path: '/real/wt/b.ts' })).toMatchObject({ category: 'edit' });
    expect(request('NotebookEdit', { notebook_path: 'n.ipynb' })).toMatchObject({
      category: 'edit',
      subject: 'n.ipynb',
    });
    expect(request('Write', { file_path: '/etc/hosts' })).toMatchObject({
      category: 'outside',
      subject: '/etc/hosts',
    });
    expect(request('Edit', { file_path: `${WT}/../other/x` })).toMatchObject({
      category: 'outside',
    });
  });

  it("claude's protected files are never an ordinary edit, and under acceptEdits nothing inside is", () => {
    for (const path of ['.claude/settings.json', '.mcp.json', '.git/hooks/pre-commit', '.envrc'])
      expect(request('Write', { file_path: `${WT}/${path}` }).category).toBe('outside');
    // Under acceptEdits claude asks about an edit inside only when it guards the file.
    expect(request('Edit', { file_path: `${WT}/lefthook.yml` }, acceptEdits)).toMatchObject({
      category: 'outside',
      subject: 'lefthook.yml',
      reason: expect.stringContaining('claude protects this file') as unknown,
    });
  });

  it('reads beyond the worktree are outside; a search pattern is not a path', () => {
    expect(request('Read', { file_path: '/etc/passwd' })).toMatchObject({
      category: 'outside',
      subject: '/etc/passwd',
    });
    expect(request('Glob', { pattern: '/home/me/**/*.key' }).category).toBe('outside');
    expect(request('Grep', { pattern: '/api/', path: '/srv' })).toMatchObject({
      category: 'outside',
      subject: '/srv',
    });
    expect(request('Grep', { pattern: '/api/' }).category).toBe('other');
  });

  it('fetching and searching the web is network', () => {
    expect(request('WebFetch', { url: 'https://x.test/a', prompt: 'the API' })).toMatchObject({
      category: 'network',
      subject: 'https://x.test/a',
      reason: 'the API',
    });
    expect(request('WebSearch', { query: 'vitest pools' })).toMatchObject({
      category: 'network',
      subject: 'vitest pools',
    });
  });

  it('any other tool is other, described by its input', () => {
    expect(request('mcp__github__create_issue', { title: 'Bug', body: 'x' })).toMatchObject({
      category: 'other',
      tool: 'mcp__github__create_issue',
      subject: '{"title":"Bug","body":"x"}',
    });
    expect(request('ExitPlanMode', { plan: '1. do it' }).subject).toBe('1. do it');
  });

  it('AskUserQuestion is one question per question, with its options', () => {
    const asked = claudeAsk(
      'AskUserQuestion',
      {
        questions: [
          {
            question: 'Which colour?',
            header: 'Colour',
            options: [
              { label: 'red', description: 'warm' },
              { label: 'blue', description: 'cool' },
            ],
            multiSelect: false,
          },
          { question: 'Which size?', header: 'Size', options: [], multiSelect: true },
        ],
      },
      inWorktree,
    );
    expect(asked).toEqual({
      kind: 'questions',
      questions: [
        {
          question: 'Which colour?',
          request: {
            kind: 'question',
            tool: 'AskUserQuestion',
            category: 'question',
            subject: 'Which colour?',
            reason: 'red: warm · blue: cool',
            options: ['red', 'blue'],
          },
        },
        {
          question: 'Which size?',
          request: expect.objectContaining({
            subject: 'Which size?',
            reason: 'more than one may be chosen',
            options: [],
          }) as unknown,
        },
      ],
    });
  });
});

describe("answers, as claude's permission results", () => {
  const input = { command: 'npm test' };

  it('allows with the input unchanged, or denies with what the agent is told', () => {
    expect(permissionResult(input, { decision: 'allow', scope: 'task', by: phone })).toEqual({
      behavior: 'allow',
      updatedInput: input,
    });
    expect(permissionResult(input, { decision: 'deny', message: 'not now', by: phone })).toEqual({
      behavior: 'deny',
      message: 'not now',
    });
    expect(permissionResult(input, { decision: 'answer', text: 'use pnpm', by: phone })).toEqual({
      behavior: 'deny',
      message: 'not allowed; the user says: use pnpm',
    });
  });

  it('answers questions in the input claude hands the model, or denies them', () => {
    const questions = { questions: [{ question: 'Which colour?' }, { question: 'Which size?' }] };
    const answer = (text: string): ApprovalAnswer => ({ decision: 'answer', text, by: phone });
    expect(
      questionsResult(questions, [
        { question: 'Which colour?', answer: answer('blue') },
        { question: 'Which size?', answer: answer('large') },
      ]),
    ).toEqual({
      behavior: 'allow',
      updatedInput: { ...questions, answers: { 'Which colour?': 'blue', 'Which size?': 'large' } },
    });
    expect(
      questionsResult(questions, [
        { question: 'Which colour?', answer: { decision: 'deny', message: 'decide', by: phone } },
      ]),
    ).toEqual({ behavior: 'deny', message: 'decide' });
  });
});

describe("the policy as claude's flags", () => {
  const flags = (text: string, extra: Partial<Parameters<typeof claudePermissionFlags>[0]> = {}) =>
    claudePermissionFlags({
      policy: policy(text),
      permissionMode: null,
      allowedTools: ['Bash(git commit:*)'],
      allowedCommands: [],
      asksKugetsu: true,
      ...extra,
    });

  it('the default policy leaves the rest to the prompt tool, edits too', () => {
    expect(flags(DEFAULT_POLICY_TEXT)).toEqual({
      permissionMode: 'default',
      allowedTools: ['Bash(git commit:*)'],
      disallowedTools: [],
    });
    // acceptEdits would also run `touch`, `rm`, `>` in the worktree unasked: only without
    // kugetsu to ask (edits would be refused) or with commands allowed anyway.
    expect(flags(DEFAULT_POLICY_TEXT, { asksKugetsu: false }).permissionMode).toBe('acceptEdits');
    expect(flags('edit=allow,bash=allow').permissionMode).toBe('acceptEdits');
    expect(flags('edit=ask,bash=allow').permissionMode).toBe('default');
  });

  it('allowed categories become allowed tools; edits asked about mean the default mode', () => {
    expect(flags('bash=allow,network=allow,outside=allow,edit=allow')).toEqual({
      permissionMode: 'acceptEdits',
      allowedTools: [
        'Bash(git commit:*)',
        'Bash',
        'WebFetch',
        'WebSearch',
        'Read',
        'Glob',
        'Grep',
        'Edit',
        'Write',
        'MultiEdit',
        'NotebookEdit',
      ],
      disallowedTools: [],
    });
    expect(flags('edit=ask,outside=allow')).toMatchObject({
      permissionMode: 'default',
      allowedTools: ['Bash(git commit:*)', 'Read', 'Glob', 'Grep'],
    });
  });

  it('denied categories are refused by claude itself where a tool is theirs alone', () => {
    expect(flags('*=deny', { allowedTools: [] }).disallowedTools).toEqual([
      'Bash',
      'WebFetch',
      'WebSearch',
      'Edit',
      'Write',
      'MultiEdit',
      'NotebookEdit',
      'AskUserQuestion',
    ]);
    // claude's deny would win over the allowed commands: the gate refuses the rest instead.
    expect(flags('bash=deny', { allowedCommands: ['kugetsu'] })).toMatchObject({
      allowedTools: ['Bash(git commit:*)', 'Bash(kugetsu:*)'],
      disallowedTools: [],
    });
  });

  it('KUGETSU_CLAUDE_PERMISSION_MODE wins over the policy', () => {
    expect(flags(DEFAULT_POLICY_TEXT, { permissionMode: 'plan' }).permissionMode).toBe('plan');
  });
});

describe('the claude backend with a permission server', () => {
  const request: AgentRunRequest = {
    mode: 'start',
    worktree: '/w',
    prompt: 'go',
    agentSessionId: null,
    forkFrom: null,
    model: null,
    env: { PATH: `${process.cwd()}/node_modules/.bin`, ANTHROPIC_API_KEY: 'sk-very-secret-1' },
    writableDirs: [],
    allowedCommands: ['kugetsu'],
    policy: policy(DEFAULT_POLICY_TEXT),
    permissionServer: {
      command: '/usr/bin/node',
      args: ['/k/main.js', 'mcp', 'permissions'],
      env: { KUGETSU_HOME: '/h', KUGETSU_TASK_ID: '7' },
    },
  };
  const backend = claudeBackend({ permissionMode: null, allowedTools: ['Bash(git log:*)'] });

  it('names kugetsu as the permission prompt tool; argv carries no secret', () => {
    const { args } = backend.prepare(request);
    const config = args[args.indexOf('--mcp-config') + 1] ?? '';
    expect(JSON.parse(config)).toEqual({
      mcpServers: {
        kugetsu: {
          type: 'stdio',
          command: '/usr/bin/node',
          args: ['/k/main.js', 'mcp', 'permissions'],
          env: { KUGETSU_HOME: '/h', KUGETSU_TASK_ID: '7', KUGETSU_WORKTREE: '/w' },
          timeout: 2 ** 31 - 1,
        },
      },
    });
    expect(args[args.indexOf('--permission-prompt-tool') + 1]).toBe(PERMISSION_PROMPT_TOOL);
    expect(args[args.indexOf('--permission-mode') + 1]).toBe('default');
    expect(args[args.indexOf('--allowedTools') + 1]).toBe('Bash(git log:*),Bash(kugetsu:*)');
    expect(args.join(' ')).not.toContain('sk-very-secret-1');
  });

  it('without one, claude refuses what it would ask, as before', () => {
    const { args } = backend.prepare({ ...request, permissionServer: null });
    expect(args[args.indexOf('--permission-mode') + 1]).toBe('acceptEdits');
    expect(args).not.toContain('--mcp-config');
    expect(args).not.toContain('--permission-prompt-tool');
  });

  it('a refusal is a question only when nobody was asked', () => {
    const init = (status: string) =>
      JSON.stringify({
        type: 'system',
        subtype: 'init',
        session_id: 's',
        mcp_servers: [{ name: 'kugetsu', status }],
      });
    const result = JSON.stringify({
      type: 'result',
      subtype: 'success',
      result: 'I was told no.',
      permission_denials: [{ tool_name: 'Bash', tool_input: { command: 'rm -rf x' } }],
    });
    const asked = claudeOutputParser();
    asked.line(init('connected'));
    asked.line(result);
    expect(asked.report().question).toBeNull();
    const refused = claudeOutputParser();
    refused.line(init('failed'));
    refused.line(result);
    expect(refused.report().question).toContain('refused permission for: $ rm -rf x');
  });
});

/** A client on in-memory streams: requests out, every reply and message in. */
function mcpClient(tools: McpTool[], onInitialized?: () => void) {
  const input = new PassThrough();
  const output = new PassThrough();
  const received: Record<string, unknown>[] = [];
  let buffer = '';
  output.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      received.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
      buffer = buffer.slice(nl + 1);
    }
  });
  const served = serveMcp({ name: 'kugetsu', version: '9', tools, input, output, onInitialized });
  const send = (message: object | string): void =>
    void input.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
  const reply = async (id: number): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 400; i++) {
      const found = received.find((m) => m['id'] === id);
      if (found !== undefined) return found;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no reply to ${id}`);
  };
  return { send, reply, received, end: () => input.end(), served };
}

describe('the MCP server', () => {
  const echo: McpTool = {
    name: 'echo',
    description: 'echo',
    inputSchema: { type: 'object' },
    call: (args) => Promise.resolve(JSON.stringify(args)),
  };

  it('answers the handshake in the version the client speaks, lists and calls its tool', async () => {
    let initialized = false;
    const c = mcpClient([echo], () => (initialized = true));
    c.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18' },
    });
    expect(await c.reply(1)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        protocolVersion: '2025-06-18',
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: 'kugetsu', version: '9' },
      },
    });
    c.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    c.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'initialize',
      params: { protocolVersion: '1999-01-01' },
    });
    expect(await c.reply(2)).toMatchObject({ result: { protocolVersion: '2025-11-25' } });
    c.send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
    expect(await c.reply(3)).toMatchObject({ result: { tools: [{ name: 'echo' }] } });
    c.send({
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'echo', arguments: { a: 1 } },
    });
    expect(await c.reply(4)).toMatchObject({
      result: { content: [{ type: 'text', text: '{"a":1}' }] },
    });
    c.send({ jsonrpc: '2.0', id: 5, method: 'ping' });
    expect(await c.reply(5)).toMatchObject({ result: {} });
    expect(initialized).toBe(true);
    c.end();
    await c.served;
  });

  it('reports bad lines, unknown methods and tools as JSON-RPC errors, and goes on', async () => {
    const c = mcpClient([echo]);
    c.send('not json');
    c.send('[1]');
    c.send({ jsonrpc: '2.0', id: 1, method: 'resources/list' });
    c.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'nope' } });
    expect(await c.reply(1)).toMatchObject({ error: { code: -32601 } });
    expect(await c.reply(2)).toMatchObject({ error: { code: -32602 } });
    expect(c.received.filter((m) => m['id'] === null).map((m) => m['error'])).toEqual([
      { code: -32700, message: 'not JSON' },
      { code: -32600, message: 'expected one JSON-RPC message per line' },
    ]);
    c.end();
    await c.served;
  });

  it('a cancelled call is aborted and gets no reply; the end of input aborts the rest', async () => {
    const aborted: number[] = [];
    const waits: McpTool = {
      ...echo,
      name: 'wait',
      call: (args, signal) =>
        new Promise((resolve) =>
          signal.addEventListener('abort', () => {
            aborted.push(Number(args['n']));
            resolve('gave up');
          }),
        ),
    };
    const c = mcpClient([waits]);
    const call = (id: number) =>
      c.send({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'wait', arguments: { n: id } },
      });
    call(1);
    call(2);
    c.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    await new Promise((r) => setTimeout(r, 20));
    expect(aborted).toEqual([1]);
    c.end();
    await c.served;
    expect(aborted).toEqual([1, 2]);
    expect(c.received.map((m) => m['id'])).toEqual([2]);
  });
});

describe('kugetsu mcp permissions against a real home', () => {
  let dir: string;
  let store: SqliteStore;
  let taskId: number;
  const SECRET = 'tok-Very-Secret-9876';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kgt-mcp-'));
    mkdirSync(join(dir, 'env'), { recursive: true });
    writeFileSync(join(dir, 'env', 'claude.env'), `DEPLOY_TOKEN=${SECRET}\n`, { mode: 0o600 });
    mkdirSync(join(dir, 'wt'));
    symlinkSync(join(dir, 'wt'), join(dir, 'wt-link'));
    store = openSqliteStore(join(dir, 'kugetsu.db'));
    taskId = await runningPmTask(store);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function server(
    policyText = DEFAULT_POLICY_TEXT,
    env: Record<string, string> = {},
    task = () => taskId,
  ) {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    const served = servePermissions({
      env: {
        KUGETSU_HOME: dir,
        KUGETSU_TASK_ID: String(task()),
        KUGETSU_WORKTREE: join(dir, 'wt-link'),
        KUGETSU_APPROVAL_POLICY: policyText,
        ...env,
      },
      input,
      output,
      log: () => undefined,
      version: '0',
      cwd: dir,
    });
    const call = (id: number, toolName: string, toolInput: object) =>
      input.write(
        `${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'approve', arguments: { tool_name: toolName, input: toolInput } } })}\n`,
      );
    const result = async (id: number): Promise<unknown> => {
      for (let i = 0; i < 400; i++) {
        for (const line of text.split('\n')) {
          if (line === '') continue;
          const message = JSON.parse(line) as {
            id: number;
            result: { content: { text: string }[] };
          };
          if (message.id === id) return JSON.parse(message.result.content[0]?.text ?? '');
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no result for ${id}`);
    };
    const opened = async () => {
      for (let i = 0; i < 400; i++) {
        const [open] = await store.approvals.list({ taskId });
        if (open !== undefined) return open;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('no open approval');
    };
    return { call, result, opened, end: () => input.end(), served };
  }

  it('holds a command until it is answered; the row is scrubbed of env-file secrets', async () => {
    const s = server();
    s.call(1, 'Bash', { command: `curl -H "X-Token: ${SECRET}" x.test`, description: 'Deploy' });
    const open = await s.opened();
    expect(open).toMatchObject({
      kind: 'permission',
      tool: 'Bash',
      category: 'bash',
      reason: 'Deploy',
    });
    expect(open.subject).not.toContain(SECRET);
    expect(open.subject).toContain('curl -H "X-Token: ');
    await store.approvals.resolve(open.id, { decision: 'allow', scope: 'once', by: phone });
    expect(await s.result(1)).toEqual({
      behavior: 'allow',
      updatedInput: { command: `curl -H "X-Token: ${SECRET}" x.test`, description: 'Deploy' },
    });
    s.end();
    await s.served;
  });

  it('lets the policy answer at once: an edit in the worktree (by its real path), network', async () => {
    const s = server(`${DEFAULT_POLICY_TEXT},network=deny`, {
      KUGETSU_CLAUDE_PERMISSION_MODE: 'default',
    });
    s.call(1, 'Write', { file_path: join(dir, 'wt', 'a.txt'), content: 'x' });
    s.call(2, 'WebFetch', { url: 'https://x.test', prompt: 'p' });
    expect(await s.result(1)).toMatchObject({ behavior: 'allow' });
    expect(await s.result(2)).toEqual({
      behavior: 'deny',
      message: 'KUGETSU_APPROVAL_POLICY denies network',
    });
    expect(await store.approvals.list({ taskId, all: true })).toEqual([]);
    s.end();
    await s.served;
  });

  it('under acceptEdits an edit claude still asks about is not covered by edit=allow', async () => {
    const s = server(`${DEFAULT_POLICY_TEXT},outside=deny`, {
      KUGETSU_CLAUDE_PERMISSION_MODE: 'acceptEdits',
    });
    s.call(1, 'Write', { file_path: join(dir, 'wt', 'a.txt'), content: 'x' });
    expect(await s.result(1)).toEqual({
      behavior: 'deny',
      message: 'KUGETSU_APPROVAL_POLICY denies outside',
    });
    s.end();
    await s.served;
  });

  it('asks a question and gives claude the answer', async () => {
    const s = server();
    const input = {
      questions: [
        { question: 'Which colour?', header: 'C', options: [{ label: 'red' }], multiSelect: false },
      ],
    };
    s.call(1, 'AskUserQuestion', input);
    const open = await s.opened();
    expect(open).toMatchObject({ kind: 'question', subject: 'Which colour?', options: ['red'] });
    await store.approvals.resolve(open.id, { decision: 'answer', text: 'blue', by: phone });
    expect(await s.result(1)).toEqual({
      behavior: 'allow',
      updatedInput: { ...input, answers: { 'Which colour?': 'blue' } },
    });
    s.end();
    await s.served;
  });

  it('refuses, failing closed, for a task that is not running', async () => {
    const s = server(DEFAULT_POLICY_TEXT, {}, () => taskId + 1);
    s.call(1, 'Bash', { command: 'ls' });
    expect(await s.result(1)).toEqual({
      behavior: 'deny',
      message: `kugetsu could not ask the user (task ${taskId + 1} is not running: only a running task's agent can ask): denied`,
    });
    s.end();
    await s.served;
  });

  it('closes the row when claude goes away before an answer', async () => {
    const s = server();
    s.call(1, 'Bash', { command: 'sleep 1' });
    const open = await s.opened();
    s.end();
    await s.served;
    expect(await store.approvals.get(open.id)).toMatchObject({
      state: 'expired',
      answeredBy: { channel: 'kugetsu', who: 'claude' },
    });
  });
});
