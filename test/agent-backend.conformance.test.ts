/**
 * Every agent backend, one suite: it either refuses with a one-line OperationError naming
 * itself, or builds an invocation that carries the prompt as data — never inside argv, where a
 * shell or a process listing would see it.
 */
import { describe, expect, it } from 'vitest';
import type { AgentRunRequest } from '../core/agents/agent-backend.js';
import { findAgentBinary, requireAgentBinary } from '../core/agents/agent-binary.js';
import { sessionIdFromMarker } from '../core/agents/agent-output.js';
import { agentBackend, type AgentSettings } from '../core/agents/registry.js';
import { DEFAULT_POLICY_TEXT, parsePolicy, policyFor } from '../core/approvals/policy.js';
import { AGENT_NAMES } from '../core/domain.js';
import { OperationError } from '../core/errors.js';

const hostile = `$(touch /tmp/x) \`id\`; rm -rf / && echo '"'`;
const request: AgentRunRequest = {
  mode: 'continue',
  worktree: '/w',
  prompt: hostile,
  agentSessionId: 'ses_1',
  forkFrom: null,
  model: null,
  env: { PATH: '/bin' },
  writableDirs: ['/repo.git'],
  allowedCommands: [],
  policy: policyFor(parsePolicy(DEFAULT_POLICY_TEXT), 'claude'),
  permissionServer: null,
};

const settings: AgentSettings = {
  agentCommand: 'my-agent --flag',
  claudePermissionMode: 'acceptEdits',
  claudeAllowedTools: ['Bash(git commit:*)'],
  codexSandbox: 'workspace-write',
  approvalPolicy: parsePolicy(DEFAULT_POLICY_TEXT),
};

describe.each(AGENT_NAMES)('agent backend %s', (name) => {
  const backend = agentBackend(name, settings);

  it('names itself', () => {
    expect(backend.name).toBe(name);
  });

  it('keeps the prompt out of argv, or refuses clearly', () => {
    let invocation;
    try {
      invocation = backend.prepare(request);
    } catch (err) {
      expect(err).toBeInstanceOf(OperationError);
      expect((err as Error).message).toContain(name);
      expect((err as Error).message).not.toContain('\n');
      return;
    }
    expect(invocation.args.join(' ')).not.toContain(hostile);
    expect(invocation.file).not.toContain(hostile);
    // An agent kugetsu converses with gets the prompt inside its protocol, from the driver.
    expect(invocation.stdin).toBe(invocation.driver === undefined ? hostile : '');
    expect(invocation.env['PATH']).toBe('/bin');
  });

  it('honours the session marker line and nothing else', () => {
    const parser = backend.parser(null);
    parser.line('echo KUGETSU_AGENT_SESSION=ses_41');
    parser.line('KUGETSU_AGENT_SESSION=$(evil)');
    expect(parser.report().sessionId).toBeNull();
    parser.line('KUGETSU_AGENT_SESSION=ses_42');
    expect(parser.report().sessionId).toBe('ses_42');
  });
});

describe('agent CLI invocations', () => {
  it('continue and fork use each CLI’s own flags', () => {
    const continued = (name: 'opencode' | 'claude' | 'codex') =>
      agentBackend(name, settings).prepare(request).args;
    expect(continued('opencode')).toEqual(['run', '--format', 'json', '--session', 'ses_1']);
    expect(continued('claude')).toContain('--resume');
    // codex is one app-server for start, continue and fork: the thread is chosen in the
    // protocol (codex-app-server.test.ts), the sandbox and policy here.
    const codex = agentBackend('codex', settings).prepare({
      ...request,
      mode: 'start',
      agentSessionId: null,
      forkFrom: 'base-1',
    });
    expect(codex.args[0]).toBe('app-server');
    expect(codex.args).toContain('sandbox_mode="workspace-write"');
    expect(codex.args).toContain('sandbox_workspace_write.writable_roots=["/repo.git"]');
    expect(codex.driver).toBeDefined();
  });

  it('an opencode model must name its provider', () => {
    expect(() =>
      agentBackend('opencode', settings).prepare({ ...request, model: 'gpt-5' }),
    ).toThrow('agent opencode: the model must be provider/model, got "gpt-5"');
  });

  it('a missing binary is one line naming the backend and the package to install', () => {
    expect(() =>
      requireAgentBinary(
        'claude',
        'no-such-agent-cli',
        '@anthropic-ai/claude-code',
        '/nonexistent',
      ),
    ).toThrow(
      "agent claude: the `no-such-agent-cli` command is not on PATH nor in kugetsu's node_modules: install it with `npm install -g @anthropic-ai/claude-code`",
    );
    // The bundled CLIs are found in kugetsu's own node_modules/.bin whatever PATH says.
    expect(findAgentBinary('opencode', '/nonexistent')).toMatch(/node_modules\/\.bin\/opencode$/);
  });
});

describe('command backend', () => {
  it('runs the configured command with sh -c and the prompt in KUGETSU_MESSAGE', () => {
    const invocation = agentBackend('command', settings).prepare(request);
    expect(invocation).toMatchObject({
      file: 'sh',
      args: ['-c', 'my-agent --flag'],
      stdin: hostile,
    });
    expect(invocation.env['KUGETSU_MESSAGE']).toBe(hostile);
  });

  it('refuses to run without a command, naming the setting', () => {
    expect(() =>
      agentBackend('command', { ...settings, agentCommand: undefined }).prepare(request),
    ).toThrow('set KUGETSU_AGENT_COMMAND');
  });

  it('accepts only well-formed session ids', () => {
    expect(sessionIdFromMarker('KUGETSU_AGENT_SESSION=abc-1.2:x@y ')).toBe('abc-1.2:x@y');
    expect(sessionIdFromMarker(`KUGETSU_AGENT_SESSION=${'a'.repeat(201)}`)).toBeNull();
  });
});
