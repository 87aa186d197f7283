/**
 * Every agent backend, one suite: it either refuses with a one-line OperationError naming
 * itself, or builds an invocation that carries the prompt as data — never inside argv, where a
 * shell or a process listing would see it.
 */
import { describe, expect, it } from 'vitest';
import { sessionIdFromMarker, type AgentRunRequest } from '../core/agents/agent-backend.js';
import { agentBackend } from '../core/agents/registry.js';
import { AGENT_NAMES } from '../core/domain.js';
import { OperationError } from '../core/errors.js';

const hostile = `$(touch /tmp/x) \`id\`; rm -rf / && echo '"'`;
const request: AgentRunRequest = {
  mode: 'continue',
  worktree: '/w',
  prompt: hostile,
  agentSessionId: 'ses_1',
  model: null,
  env: { PATH: '/bin' },
};

describe.each(AGENT_NAMES)('agent backend %s', (name) => {
  const backend = agentBackend(name, { command: 'my-agent --flag' });

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
    expect(invocation.stdin).toBe(hostile);
    expect(invocation.env['PATH']).toBe('/bin');
  });

  it('reads the session marker line and nothing else', () => {
    expect(backend.sessionIdFrom('KUGETSU_AGENT_SESSION=ses_42')).toBe('ses_42');
    expect(backend.sessionIdFrom('echo KUGETSU_AGENT_SESSION=ses_42')).toBeNull();
    expect(backend.sessionIdFrom('KUGETSU_AGENT_SESSION=$(evil)')).toBeNull();
  });
});

describe('command backend', () => {
  it('runs the configured command with sh -c and the prompt in KUGETSU_MESSAGE', () => {
    const invocation = agentBackend('command', { command: 'my-agent --flag' }).prepare(request);
    expect(invocation).toMatchObject({
      file: 'sh',
      args: ['-c', 'my-agent --flag'],
      stdin: hostile,
    });
    expect(invocation.env['KUGETSU_MESSAGE']).toBe(hostile);
  });

  it('refuses to run without a command, naming the setting', () => {
    expect(() => agentBackend('command', { command: undefined }).prepare(request)).toThrow(
      'set KUGETSU_AGENT_COMMAND',
    );
  });

  it('accepts only well-formed session ids', () => {
    expect(sessionIdFromMarker('KUGETSU_AGENT_SESSION=abc-1.2:x@y ')).toBe('abc-1.2:x@y');
    expect(sessionIdFromMarker(`KUGETSU_AGENT_SESSION=${'a'.repeat(201)}`)).toBeNull();
  });
});
