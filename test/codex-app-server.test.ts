/**
 * codex's app-server protocol in milliseconds: the JSON-RPC peer, the pure mapping of
 * KUGETSU_APPROVAL_POLICY and of codex's requests and kugetsu's answers, and the driver's
 * conversation against a scripted peer. The real binary is in approvals-codex.slow.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApprovalAnswer, ApprovalRequest } from '../core/approvals/approval.js';
import { DEFAULT_POLICY_TEXT, parsePolicy, policyFor } from '../core/approvals/policy.js';
import type { DriverIo } from '../core/agents/agent-backend.js';
import {
  commandDecision,
  planServerRequest,
  reviewDecision,
  type RequestContext,
} from '../core/agents/codex/codex-approvals.js';
import { isInside } from '../core/agents/codex/codex-patches.js';
import {
  beyondSandbox,
  codexApprovalPolicy,
  policyArgs,
  type AgentPolicy,
} from '../core/agents/codex/codex-policy.js';
import { unwrapShell } from '../core/agents/codex/codex-shell.js';
import { codexDriver, type CodexConversation } from '../core/agents/codex/codex-driver.js';
import { JsonRpcRequestError, jsonRpcPeer } from '../core/agents/codex/json-rpc.js';
import { FIXTURES } from './helpers/sandbox.js';

const policy = (text: string): AgentPolicy => policyFor(parsePolicy(text), 'codex');
const DEFAULT = policy(DEFAULT_POLICY_TEXT);
const by = { channel: 'cli' as const, who: 'root' };
const once: ApprovalAnswer = { decision: 'allow', scope: 'once', by };
const forTask: ApprovalAnswer = { decision: 'allow', scope: 'task', by };
const no: ApprovalAnswer = { decision: 'deny', message: 'not now', by };

/** The codex requests of the fixtures, as the real binary sent them. */
function fixtureRequest(name: string, method: string): Record<string, unknown> {
  const lines = readFileSync(join(FIXTURES, 'agent-output', name), 'utf8').split('\n');
  const line = lines.find((l) => l.includes(`"method":"${method}"`) && l.includes('"id":'));
  if (line === undefined) throw new Error(`no ${method} in ${name}`);
  return (JSON.parse(line) as { params: Record<string, unknown> }).params;
}

describe('JSON-RPC peer', () => {
  it('numbers requests, settles them by id, and tells requests from notifications', async () => {
    const sent: string[] = [];
    const peer = jsonRpcPeer((line) => sent.push(line));
    const first = peer.request('initialize', { a: 1 });
    const second = peer.request('thread/start');
    expect(sent).toEqual([
      '{"id":1,"method":"initialize","params":{"a":1}}\n',
      '{"id":2,"method":"thread/start"}\n',
    ]);
    expect(peer.waiting).toBe(2);
    expect(peer.receive('{"id":2,"error":{"code":-32600,"message":"no rollout"}}')).toMatchObject({
      kind: 'response',
      error: { code: -32600, message: 'no rollout' },
    });
    expect(peer.receive('{"id":1,"result":{"ok":true}}')?.kind).toBe('response');
    await expect(first).resolves.toEqual({ ok: true });
    await expect(second).rejects.toEqual(
      new JsonRpcRequestError('thread/start', -32600, 'no rollout'),
    );
    expect(peer.receive('{"id":0,"method":"item/tool/call","params":{}}')?.kind).toBe('request');
    expect(peer.receive('{"method":"turn/started","params":{}}')?.kind).toBe('notification');
    expect(peer.receive('not json')).toBeNull();
    expect(peer.receive('{"id":9}')).toBeNull();
  });

  it('replies to requests and rejects what waits when the connection ends', async () => {
    const sent: string[] = [];
    const peer = jsonRpcPeer((line) => sent.push(line));
    peer.respond(0, { decision: 'accept' });
    peer.respondError('x', -32601, 'no such method');
    expect(sent).toEqual([
      '{"id":0,"result":{"decision":"accept"}}\n',
      '{"id":"x","error":{"code":-32601,"message":"no such method"}}\n',
    ]);
    const waiting = peer.request('turn/start', {});
    peer.close('codex exited');
    await expect(waiting).rejects.toThrow('codex exited');
    await expect(peer.request('turn/steer')).rejects.toThrow('codex exited');
  });
});

describe('KUGETSU_APPROVAL_POLICY in codex terms', () => {
  it('asks about every command under untrusted unless bash is allowed', () => {
    expect(codexApprovalPolicy(DEFAULT)).toBe('untrusted');
    expect(codexApprovalPolicy(policy('bash=deny'))).toBe('untrusted');
    // Allowed commands stay in the sandbox; only leaving it is asked.
    expect(codexApprovalPolicy(policy('bash=allow'))).toBe('on-request');
    expect(codexApprovalPolicy(policy('bash=allow,outside=allow,network=allow'))).toBe(
      'on-request',
    );
    // Nothing left to ask: codex refuses leaving the sandbox itself.
    expect(codexApprovalPolicy(policy('bash=allow,outside=deny,network=deny'))).toBe('never');
  });

  it('gives the sandbox network and web search only when network is allowed', () => {
    expect(policyArgs(DEFAULT)).toEqual([
      '-c',
      'sandbox_workspace_write.network_access=false',
      '-c',
      'web_search="disabled"',
      '--enable',
      'default_mode_request_user_input',
      '-c',
      'suppress_unstable_features_warning=true',
    ]);
    expect(policyArgs(policy('network=allow,question=deny'))).toEqual([
      '-c',
      'sandbox_workspace_write.network_access=true',
    ]);
  });

  it('asks about leaving the sandbox under the tighter of outside and network', () => {
    expect(beyondSandbox(DEFAULT)).toBe('outside');
    expect(beyondSandbox(policy('outside=allow,network=ask'))).toBe('network');
    expect(beyondSandbox(policy('outside=ask,network=deny'))).toBe('network');
    expect(beyondSandbox(policy('outside=deny,network=deny'))).toBe('outside');
  });
});

describe('codex requests as approval requests', () => {
  const context: RequestContext = {
    worktree: '/w/app',
    approvalPolicy: 'untrusted',
    policy: DEFAULT,
    fileChanges: (id) =>
      id === 'inside' ? ['/w/app/src/a.ts', '/w/app/b.md'] : id === 'out' ? ['/w/other.txt'] : null,
  };
  const ask = (method: string, params: unknown, ctx = context) => {
    const plan = planServerRequest(method, params, ctx);
    if (plan.kind !== 'ask') throw new Error(`expected an ask, got ${plan.kind}`);
    return plan;
  };

  it('a command is bash, shown as the model wrote it; allow and deny are codex decisions', () => {
    const params = fixtureRequest(
      'codex-app-declined.jsonl',
      'item/commandExecution/requestApproval',
    );
    const plan = ask('item/commandExecution/requestApproval', params);
    expect(plan.requests).toEqual([
      {
        kind: 'permission',
        tool: 'exec_command',
        category: 'bash',
        subject: 'rm -rf /work/zzz',
        reason: null,
        options: [],
      },
    ]);
    expect(plan.reply([once])).toEqual({ decision: 'accept' });
    expect(plan.reply([no])).toEqual({ decision: 'decline' });
    // codex 0.169 offers no acceptForSession under untrusted: the task grant covers the rest.
    expect(plan.reply([forTask])).toEqual({ decision: 'accept' });
    expect(commandDecision(forTask, undefined)).toBe('acceptForSession');
  });

  it('a command with a reason, or any under on-request, is about leaving the sandbox', () => {
    const escalation = {
      command: "/bin/bash -lc 'echo x > ../esc.txt'",
      reason: 'Write the release note outside the repo?',
    };
    expect(ask('item/commandExecution/requestApproval', escalation).requests[0]).toMatchObject({
      category: 'outside',
      subject: 'echo x > ../esc.txt',
      reason: 'Write the release note outside the repo?',
    });
    const onRequest = { ...context, approvalPolicy: 'on-request' as const };
    expect(
      ask('item/commandExecution/requestApproval', { command: 'ls' }, onRequest).requests[0]
        ?.category,
    ).toBe('outside');
    expect(
      ask('item/commandExecution/requestApproval', {
        command: 'curl https://example.com',
        networkApprovalContext: { host: 'example.com', protocol: 'https' },
      }).requests[0],
    ).toMatchObject({ category: 'network', subject: 'example.com' });
  });

  it('a patch is edit inside the worktree and outside otherwise, by the paths codex announced', () => {
    const inside = ask('item/fileChange/requestApproval', { itemId: 'inside', reason: null });
    expect(inside.requests[0]).toMatchObject({
      tool: 'apply_patch',
      category: 'edit',
      subject: 'src/a.ts, b.md',
    });
    expect(inside.reply([forTask])).toEqual({ decision: 'acceptForSession' });
    expect(inside.reply([no])).toEqual({ decision: 'decline' });
    expect(ask('item/fileChange/requestApproval', { itemId: 'out' }).requests[0]).toMatchObject({
      category: 'outside',
      subject: '/w/other.txt',
    });
    // Paths codex did not announce, or a root to write under beyond the worktree: outside.
    expect(ask('item/fileChange/requestApproval', { itemId: '?' }).requests[0]?.category).toBe(
      'outside',
    );
    expect(
      ask('item/fileChange/requestApproval', { itemId: 'inside', grantRoot: '/w' }).requests[0]
        ?.category,
    ).toBe('outside');
  });

  it('each question is asked; the reply maps question ids to answers, a refusal included', () => {
    const params = fixtureRequest('codex-app-question.jsonl', 'item/tool/requestUserInput');
    const plan = ask('item/tool/requestUserInput', params);
    expect(plan.requests).toEqual([
      {
        kind: 'question',
        tool: 'request_user_input',
        category: 'question',
        subject: 'Which colour should the button be?',
        reason: null,
        options: ['Red (Recommended)', 'Blue'],
      },
    ]);
    expect(plan.reply([{ decision: 'answer', text: 'Blue', by }])).toEqual({
      answers: { color: { answers: ['Blue'] } },
    });
    expect(plan.reply([no])).toEqual({ answers: { color: { answers: ['not now'] } } });
  });

  it('extra permissions, MCP tool approvals and the v1 requests', () => {
    const permissions = ask('item/permissions/requestApproval', {
      reason: 'Select a workspace root',
      permissions: { fileSystem: { write: ['/srv/shared'], read: null }, network: null },
    });
    expect(permissions.requests[0]).toMatchObject({
      category: 'outside',
      subject: 'write /srv/shared',
    });
    expect(permissions.reply([forTask])).toEqual({
      permissions: { fileSystem: { write: ['/srv/shared'], read: null } },
      scope: 'session',
    });
    expect(permissions.reply([no])).toEqual({ permissions: {}, scope: 'turn' });

    const mcp = ask('mcpServer/elicitation/request', {
      serverName: 'docs',
      mode: 'form',
      message: 'Allow the docs MCP server to run tool "search"?',
      _meta: { codex_approval_kind: 'mcp_tool_call', tool_name: 'search' },
    });
    expect(mcp.requests[0]).toMatchObject({ category: 'other', subject: 'docs: search' });
    expect(mcp.reply([once])).toEqual({ action: 'accept', content: {}, _meta: null });
    expect(
      planServerRequest('mcpServer/elicitation/request', { mode: 'url' }, context),
    ).toMatchObject({
      kind: 'reply',
      result: { action: 'decline' },
    });

    const legacy = ask('execCommandApproval', { command: ['/bin/bash', '-lc', 'npm test'] });
    expect(legacy.requests[0]).toMatchObject({ category: 'bash', subject: 'npm test' });
    expect(legacy.reply([forTask])).toEqual({ decision: 'approved_for_session' });
    expect(reviewDecision(no)).toEqual({ denied: { rejection: 'not now' } });
    expect(
      ask('applyPatchApproval', { fileChanges: { '/w/app/x.ts': {}, '/etc/hosts': {} } })
        .requests[0],
    ).toMatchObject({ category: 'outside', subject: 'x.ts, /etc/hosts' });
  });

  it('what kugetsu cannot answer is refused, never left waiting', () => {
    expect(planServerRequest('item/tool/call', {}, context).kind).toBe('refuse');
    expect(planServerRequest('account/chatgptAuthTokens/refresh', {}, context)).toMatchObject({
      kind: 'refuse',
      message: expect.stringContaining('codex login') as unknown,
    });
    expect(planServerRequest('attestation/generate', {}, context).kind).toBe('refuse');
  });

  it('unwraps codex’s shell wrapper and keeps paths honest', () => {
    expect(unwrapShell("/bin/bash -lc 'echo '\\''hi'\\'' > a.txt'")).toBe("echo 'hi' > a.txt");
    expect(unwrapShell('bash -c "echo \\"x\\""')).toBe('echo "x"');
    expect(unwrapShell('git status')).toBe('git status');
    expect(isInside('/w/app', '/w/app/x')).toBe(true);
    expect(isInside('/w/app', '/w/app')).toBe(true);
    expect(isInside('/w/app', '/w/apple/x')).toBe(false);
    expect(isInside('/w/app', '/w/app/../b')).toBe(false);
  });
});

/** A driver with a scripted codex on the other end. */
function conversation(
  answer: (request: ApprovalRequest) => ApprovalAnswer,
  open: CodexConversation['open'] = { mode: 'start' },
) {
  const sent: Record<string, unknown>[] = [];
  const asked: ApprovalRequest[] = [];
  const notes: string[] = [];
  const finished: { error: string | null }[] = [];
  let inputEnded = false;
  const controller = new AbortController();
  const io: DriverIo = {
    write: (text) => {
      for (const line of text.split('\n'))
        if (line !== '') sent.push(JSON.parse(line) as Record<string, unknown>);
    },
    endInput: () => (inputEnded = true),
    emit: () => undefined,
    ask: (request) => {
      asked.push(request);
      return Promise.resolve(answer(request));
    },
    note: (line) => notes.push(line),
    finish: (result) => finished.push(result),
    signal: controller.signal,
  };
  const driver = codexDriver({
    open,
    worktree: '/w/app',
    prompt: 'Fix it "now" $(rm -rf /)',
    model: 'gpt-5',
    sandbox: 'workspace-write',
    policy: DEFAULT,
    allowedCommands: ['kugetsu'],
  });
  driver.start(io);
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const from = (message: unknown) => driver.line(JSON.stringify(message));
  const sentOf = (method: string) => sent.find((m) => m['method'] === method);
  return {
    driver,
    sent,
    asked,
    notes,
    finished,
    from,
    settle,
    sentOf,
    ended: () => inputEnded,
    controller,
  };
}

describe('the codex driver', () => {
  it('initializes, opens the thread with the policy and sends the prompt as one turn', async () => {
    const c = conversation(() => once);
    expect(c.sent[0]).toMatchObject({
      id: 1,
      method: 'initialize',
      params: { clientInfo: { name: 'kugetsu' }, capabilities: { experimentalApi: true } },
    });
    c.from({ id: 1, result: {} });
    await c.settle();
    expect(c.sentOf('initialized')).toEqual({ method: 'initialized' });
    expect(c.sentOf('thread/start')).toEqual({
      id: 2,
      method: 'thread/start',
      params: {
        cwd: '/w/app',
        approvalPolicy: 'untrusted',
        sandbox: 'workspace-write',
        model: 'gpt-5',
      },
    });
    c.from({ id: 2, result: { thread: { id: 'thr_1' } } });
    await c.settle();
    expect(c.sentOf('turn/start')).toEqual({
      id: 3,
      method: 'turn/start',
      params: {
        threadId: 'thr_1',
        input: [{ type: 'text', text: 'Fix it "now" $(rm -rf /)', text_elements: [] }],
      },
    });
    c.from({ id: 3, result: { turn: { id: 'turn_1' } } });
    // Another thread's turn (a sub-agent's) does not end the run; this thread's does.
    c.from({
      method: 'turn/completed',
      params: { threadId: 'thr_sub', turn: { status: 'completed' } },
    });
    expect(c.finished).toEqual([]);
    c.from({
      method: 'turn/completed',
      params: { threadId: 'thr_1', turn: { status: 'completed' } },
    });
    expect(c.finished).toEqual([{ error: null }]);
    expect(c.ended()).toBe(true);
  });

  it('resumes and forks by thread id without asking codex for the whole history', () => {
    const resumed = conversation(() => once, { mode: 'resume', threadId: 'thr_old' });
    resumed.from({ id: 1, result: {} });
    return resumed.settle().then(async () => {
      expect(resumed.sentOf('thread/resume')?.['params']).toMatchObject({
        threadId: 'thr_old',
        excludeTurns: true,
        approvalPolicy: 'untrusted',
      });
      const forked = conversation(() => once, { mode: 'fork', threadId: 'thr_base' });
      forked.from({ id: 1, result: {} });
      await forked.settle();
      expect(forked.sentOf('thread/fork')?.['params']).toMatchObject({ threadId: 'thr_base' });
    });
  });

  it('a thread codex cannot open, or a failed turn, ends the run with the error', async () => {
    const lost = conversation(() => once, { mode: 'resume', threadId: 'gone' });
    lost.from({ id: 1, result: {} });
    await lost.settle();
    lost.from({ id: 2, error: { code: -32600, message: 'no rollout found for thread id gone' } });
    await lost.settle();
    expect(lost.finished).toEqual([
      { error: 'codex app-server: no rollout found for thread id gone' },
    ]);
    const failed = conversation(() => once);
    failed.from({ id: 1, result: {} });
    await failed.settle();
    failed.from({ id: 2, result: { thread: { id: 't' } } });
    failed.from({
      method: 'turn/completed',
      params: { threadId: 't', turn: { status: 'failed', error: { message: '401 Unauthorized' } } },
    });
    expect(failed.finished).toEqual([{ error: 'codex: 401 Unauthorized' }]);
  });

  it('answers codex’s requests through the gate; a person’s refusal reaches the model', async () => {
    const c = conversation((request) => (request.subject === 'npm test' ? once : no));
    c.from({ id: 1, result: {} });
    await c.settle();
    c.from({ id: 2, result: { thread: { id: 't' } } });
    await c.settle();
    c.from({ id: 3, result: { turn: { id: 'u' } } });
    c.from({
      id: 0,
      method: 'item/commandExecution/requestApproval',
      params: { threadId: 't', turnId: 'u', itemId: 'i', command: "/bin/bash -lc 'npm test'" },
    });
    c.from({
      id: 1,
      method: 'item/commandExecution/requestApproval',
      params: { threadId: 't', turnId: 'u', itemId: 'j', command: 'rm -rf /' },
    });
    c.from({ id: 2, method: 'item/tool/call', params: {} });
    await c.settle();
    expect(c.asked.map((r) => r.subject)).toEqual(['npm test', 'rm -rf /']);
    expect(c.sent).toContainEqual({ id: 0, result: { decision: 'accept' } });
    expect(c.sent).toContainEqual({ id: 1, result: { decision: 'decline' } });
    expect(c.sent).toContainEqual({
      id: 2,
      error: { code: -32601, message: 'kugetsu registers no dynamic tools' },
    });
    expect(c.sentOf('turn/steer')).toMatchObject({
      method: 'turn/steer',
      params: {
        threadId: 't',
        expectedTurnId: 'u',
        input: [{ text: 'kugetsu: the user refused exec_command (rm -rf /): not now' }],
      },
    });
  });

  it('the commands kugetsu gives the agent run unasked, and only those', async () => {
    const c = conversation(() => no);
    const command = (id: number, cmd: string) =>
      c.from({ id, method: 'item/commandExecution/requestApproval', params: { command: cmd } });
    command(10, "/bin/bash -c 'kugetsu list --json'");
    command(11, `/bin/bash -c 'kugetsu start local/me/app#7 "Write pm.txt [[x]]" --detach'`);
    command(12, "/bin/bash -c 'kugetsu list; rm -rf /'");
    command(13, '/bin/bash -c \'kugetsu start x "$(cat ~/.ssh/id_rsa)"\'');
    await c.settle();
    expect(c.sent).toContainEqual({ id: 10, result: { decision: 'accept' } });
    expect(c.sent).toContainEqual({ id: 11, result: { decision: 'accept' } });
    expect(c.asked.map((r) => r.subject)).toEqual([
      'kugetsu list; rm -rf /',
      'kugetsu start x "$(cat ~/.ssh/id_rsa)"',
    ]);
    expect(c.notes).toContain('kugetsu list --json: allowed (a command kugetsu gives this agent)');
  });

  it('a file change is judged by the paths its item announced', async () => {
    const c = conversation(() => once);
    c.from({
      method: 'item/started',
      params: { item: { type: 'fileChange', id: 'p1', changes: [{ path: '/etc/passwd' }] } },
    });
    c.from({ id: 7, method: 'item/fileChange/requestApproval', params: { itemId: 'p1' } });
    await c.settle();
    expect(c.asked[0]).toMatchObject({ category: 'outside', subject: '/etc/passwd' });
    expect(c.sent).toContainEqual({ id: 7, result: { decision: 'accept' } });
  });
});
